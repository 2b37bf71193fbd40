/*
 * The point of a citizen's report, on an offline map: the county, its grids and roads from
 * /api/geo, a tap or the phone's location for the point, and the grid it falls in.
 */
(function () {
  "use strict";

  const R = window.CommandHall.report;
  const { config, $, s, showError, clearError } = R;

  const LOCATED_ZOOM = 15; // a few grids around the point: enough to see where it is

  // -- the report form: the point, on an offline map -------------------------------------

  let map = null;
  let marker = null;
  let accuracyCircle = null;
  let gridFeatures = null; // null until the grids have loaded

  function inRing(x, y, ring) {
    let inside = false;
    for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      const [xi, yi] = ring[i];
      const [xj, yj] = ring[j];
      if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
    }
    return inside;
  }

  /** The grid under the point (its GeoJSON properties), null outside, undefined if unknown. */
  function gridAt(lat, lng) {
    if (!gridFeatures) return undefined;
    for (const feature of gridFeatures) {
      const g = feature.geometry || {};
      const polygons =
        g.type === "Polygon" ? [g.coordinates] : g.type === "MultiPolygon" ? g.coordinates : [];
      for (const rings of polygons) {
        if (inRing(lng, lat, rings[0]) && !rings.slice(1).some((hole) => inRing(lng, lat, hole))) {
          return feature.properties || {};
        }
      }
    }
    return null;
  }

  function setPoint(lat, lng, accuracy) {
    R.point = { lat, lng };
    R.formChanged();
    clearError("location");
    if (accuracyCircle) accuracyCircle.remove();
    accuracyCircle = null;
    if (map && accuracy) {
      accuracyCircle = L.circle([lat, lng], {
        radius: accuracy, color: "#1459b8", weight: 1, fillOpacity: 0.12, interactive: false,
      }).addTo(map);
    }
    if (map) {
      if (marker) marker.setLatLng([lat, lng]);
      else {
        marker = L.marker([lat, lng], { draggable: true, keyboard: false, autoPan: true });
        marker.on("dragend", () => {
          const at = marker.getLatLng();
          setPoint(at.lat, at.lng);
        });
        marker.addTo(map);
      }
    }
    describePoint(accuracy);
  }

  function describePoint(accuracy) {
    if (!R.point) return;
    const status = $("rp-location-status");
    const grid = gridAt(R.point.lat, R.point.lng);
    const where = `${R.point.lat.toFixed(5)}, ${R.point.lng.toFixed(5)}`;
    if (grid === null) {
      status.textContent = where;
      showError("location", s("report.location.outside"));
      return;
    }
    const parts = [];
    if (accuracy) parts.push(s("report.location.found", { m: Math.round(accuracy) }));
    const named = grid && grid.name;
    const picked = named ? s("report.location.picked", { grid: grid.name }) : "";
    parts.push(picked || s("report.location.point"));
    status.textContent = `${parts.join(" · ")} (${where})`;
  }

  /** No point any more: a new report starts without one. */
  function clearPoint() {
    R.point = null;
    if (marker) marker.remove();
    if (accuracyCircle) accuracyCircle.remove();
    marker = accuracyCircle = null;
    $("rp-location-status").textContent = s("report.location.hint");
  }

  const BASE_STYLES = {
    boundary: { color: "#1459b8", weight: 2, fillColor: "#eaf2fc", fillOpacity: 1 },
    grids: { color: "#9fb8d8", weight: 0.7, fill: false },
    townships: { color: "#5d86bd", weight: 1.4, dashArray: "4 4", fill: false },
    roads: { color: "#e0a53b", weight: 2.5, opacity: 0.9 },
  };
  const BASE_ORDER = ["boundary", "grids", "townships", "roads"]; // painted bottom to top

  /** Hide the township names that would overlap one already shown (Leaflet does not). */
  function declutterLabels() {
    const shown = [];
    for (const label of document.querySelectorAll("#rp-map .rp-map-label")) {
      label.style.visibility = "";
      const box = label.getBoundingClientRect();
      const hits = shown.some(
        (b) => box.left < b.right && b.left < box.right && box.top < b.bottom && b.top < box.bottom,
      );
      if (hits) label.style.visibility = "hidden";
      else shown.push(box);
    }
  }

  let countyBounds = null;
  let fitted = false;

  /** Show the whole county, once the map is laid out (a hidden map has no size to fit). */
  function fitCounty() {
    if (!map || fitted || !countyBounds || !countyBounds.isValid()) return;
    if (!$("rp-map").offsetWidth) return; // hidden behind another tab: fitted when shown
    fitted = true;
    map.invalidateSize();
    if (!R.point) map.fitBounds(countyBounds, { padding: [8, 8] });
    map.setMaxBounds(countyBounds.pad(0.6));
    map.setMinZoom(Math.max(map.getBoundsZoom(countyBounds) - 1, 5));
    declutterLabels();
  }

  function initMap() {
    const box = $("rp-map");
    if (!window.L) {
      box.classList.add("is-failed");
      box.textContent = s("report.location.map_failed");
      return;
    }
    map = L.map(box, {
      attributionControl: false, preferCanvas: true, zoomSnap: 0.5, tapTolerance: 20,
    });
    R.map = map; // made once: the tabs refit it, report.js shows it as CommandHall.reportMap
    map.setView([0, 0], 2); // replaced by the county once the boundary is here
    if (config.tileUrl) L.tileLayer(config.tileUrl, { maxZoom: 19 }).addTo(map);
    map.on("click", (e) => setPoint(e.latlng.lat, e.latlng.lng));
    Promise.all(
      BASE_ORDER.map((name) =>
        fetch(`/api/geo/${name}.geojson`)
          .then((r) => (r.ok ? r.json() : null))
          .catch(() => null),
      ),
    ).then((layers) => {
      layers.forEach((data, i) => {
        if (!data) return;
        const name = BASE_ORDER[i];
        const layer = L.geoJSON(data, { style: BASE_STYLES[name], interactive: false });
        if (name === "townships") {
          layer.eachLayer((l) => {
            const label = (l.feature.properties || {}).name;
            if (label) {
              l.bindTooltip(label, {
                permanent: true, direction: "center", className: "rp-map-label", interactive: false,
              });
            }
          });
        }
        layer.addTo(map);
        if (name === "boundary") countyBounds = layer.getBounds();
        if (name === "grids") gridFeatures = data.features || [];
      });
      if (R.point) describePoint();
      if (!layers[0]) $("rp-location-status").textContent = s("report.location.map_failed");
      map.on("zoomend", declutterLabels);
      fitCounty();
      box.dataset.ready = "1";
    });
  }

  $("rp-locate").addEventListener("click", () => {
    const button = $("rp-locate");
    clearError("location");
    if (!navigator.geolocation) {
      showError("location", s("report.location.unsupported"));
      return;
    }
    button.disabled = true;
    $("rp-location-status").textContent = s("report.location.locating");
    navigator.geolocation.getCurrentPosition(
      (position) => {
        button.disabled = false;
        const { latitude, longitude, accuracy } = position.coords;
        if (map) map.setView([latitude, longitude], Math.max(map.getZoom(), LOCATED_ZOOM));
        setPoint(latitude, longitude, accuracy);
      },
      (error) => {
        button.disabled = false;
        $("rp-location-status").textContent = s("report.location.hint");
        const denied = error.code === 1; // PERMISSION_DENIED
        showError("location", s(denied ? "report.location.denied" : "report.location.failed"));
      },
      { enableHighAccuracy: true, timeout: 15000, maximumAge: 30000 },
    );
  });

  Object.assign(R, { gridAt, clearPoint, fitCounty, initMap });
})();
