/*
 * GPS on the grid worker's page: a fix kept every 5 s, sent every 10 s through the outbox,
 * and the bar under the header that says how it goes.
 */
(function () {
  "use strict";

  const F = window.CommandHall.field;
  const { GPS_KEY, t, writeJson, S } = F;

  const FIX_EVERY_MS = 5000; // keep one GPS fix per 5 s…
  const SEND_FIXES_MS = 10000; // …and send them every 10 s
  const FRESH_FIX_MS = 120000; // a fix older than this is not "where I am"

  // ---------- GPS ----------

  let watchId = null;
  let fixTimer = null;
  let lastKept = 0;
  let sentFirst = false;
  let pendingFixes = [];
  let battery = null;

  function startGps() {
    if (watchId !== null || !S.token) return;
    if (!navigator.geolocation) {
      S.gps.status = "unavailable";
      return;
    }
    S.gps.status = S.fix ? "ok" : "waiting";
    watchId = navigator.geolocation.watchPosition(onFix, onGpsError, {
      enableHighAccuracy: true, maximumAge: 5000, timeout: 30000,
    });
    if (navigator.getBattery) navigator.getBattery().then((b) => (battery = b), () => {});
    fixTimer = setInterval(flushFixes, SEND_FIXES_MS);
  }

  function stopGps() {
    if (watchId !== null) navigator.geolocation.clearWatch(watchId);
    watchId = null;
    clearInterval(fixTimer);
    flushFixes();
    S.gps.status = "off";
  }

  function onFix(pos) {
    const c = pos.coords;
    const at = pos.timestamp || Date.now();
    S.fix = { lat: c.latitude, long: c.longitude, accuracy: c.accuracy, at };
    S.gps.status = "ok";
    if (at - lastKept >= FIX_EVERY_MS) {
      lastKept = at;
      pendingFixes.push({
        worker_id: S.worker ? S.worker.id : undefined,
        // A phone whose clock is far off would have every fix refused as future or stale.
        time: Math.round(Math.abs(S.skew) > 10000 ? at + S.skew : at),
        lat: c.latitude,
        long: c.longitude,
        accuracy: c.accuracy !== null ? Math.round(c.accuracy * 10) / 10 : null,
        speed: c.speed !== null && c.speed >= 0 ? c.speed : null,
        battery: battery ? Math.round(battery.level * 100) : null,
      });
      if (!sentFirst) {
        sentFirst = true; // the centre sees the worker at once, not 10 s later
        flushFixes();
      }
    }
    updateGpsBar();
    if (F.view && F.view.onFix) F.view.onFix();
  }

  function onGpsError(err) {
    if (err.code === 1) stopGps(); // denied: watching on would only fail again
    S.gps.status = err.code === 1 ? "denied" : "unavailable";
    updateGpsBar();
  }

  function flushFixes() {
    if (!pendingFixes.length || !S.token) return;
    F.outbox.addPositions("/api/positions", pendingFixes.splice(0));
  }

  function toggleGps() {
    S.gps.on = !S.gps.on;
    writeJson(GPS_KEY, S.gps.on);
    if (S.gps.on) startGps();
    else stopGps();
    updateGpsBar();
  }

  function freshFix() {
    return S.fix && Date.now() - S.fix.at < FRESH_FIX_MS ? S.fix : null;
  }

  function updateGpsBar() {
    const shell = F.shell;
    if (!shell) return;
    const status = S.gps.on ? S.gps.status : "off";
    let text = t("field.gps.off");
    if (status === "ok") {
      const m = Math.round(S.fix.accuracy || 0);
      text = t("field.gps.on") + " " + t("field.gps.accuracy", { m });
    } else if (status === "waiting") text = t("field.gps.waiting");
    else if (status === "denied") text = t("field.gps.denied");
    else if (status === "unavailable") text = t("field.gps.unavailable");
    shell.gpsText.textContent = text;
    const fine = status === "ok" || status === "waiting";
    shell.gps.className = "phone-bar" + (status === "off" ? " is-off" : fine ? "" : " is-problem");
    shell.gps.dataset.status = status;
    shell.gpsButton.textContent = S.gps.on ? t("field.gps.turn_off") : t("field.gps.turn_on");
  }

  Object.assign(F, { startGps, stopGps, toggleGps, freshFix, updateGpsBar });
})();
