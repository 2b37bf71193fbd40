/*
 * The grid worker's maps: Leaflet on the project's own base map, with the worker's dot.
 */
(function () {
  "use strict";

  const F = window.CommandHall.field;
  const { cfg, S } = F;

  // ---------- maps ----------

  let basemapPromise = null;

  function basemap() {
    basemapPromise =
      basemapPromise ||
      Promise.all(
        ["grids", "roads"].map((n) => fetch("/api/geo/" + n + ".geojson").then((r) => r.json()))
      )
        .catch((e) => {
          basemapPromise = null; // offline: try again next time a map opens
          throw e;
        });
    return basemapPromise;
  }

  /** A Leaflet map on the project's own vector base map (or tiles when configured); markers
   *  go in a pane above it, whatever order the layers arrive in. */
  function makeMap(el, onBasemap) {
    const L = window.L;
    const map = L.map(el, { attributionControl: !!cfg.tile_url, zoomSnap: 0.5 });
    map.createPane("field-markers").style.zIndex = 650;
    if (cfg.tile_url) L.tileLayer(cfg.tile_url, { maxZoom: 19 }).addTo(map);
    let grids = null;
    let styledFor;
    const style = (f) => {
      const own = S.worker && f.id === S.worker.grid_id;
      return {
        color: own ? "#0b4f9c" : "#8aa0bb",
        weight: own ? 3 : 1,
        fillColor: own ? "#0b4f9c" : "#ffffff",
        fillOpacity: own ? 0.06 : cfg.tile_url ? 0 : 0.55,
      };
    };
    /** Own grid outlined: again once the worker is known (the layers may come first). */
    map.fieldStyleGrids = () => {
      const own = S.worker && S.worker.grid_id;
      if (grids && own !== styledFor) {
        styledFor = own;
        grids.setStyle(style);
      }
    };
    basemap().then(([gridData, roads]) => {
      if (!el.isConnected) return; // the view was left before the layers came
      grids = L.geoJSON(gridData, { interactive: false, style }).addTo(map);
      styledFor = S.worker && S.worker.grid_id;
      const road = { color: "#e2a33b", weight: 3, opacity: 0.9 };
      L.geoJSON(roads, { interactive: false, style: road }).addTo(map);
      if (onBasemap) onBasemap(gridData);
    }, () => {});
    return map;
  }

  function ownMarker(map, marker) {
    if (map.fieldStyleGrids) map.fieldStyleGrids();
    if (!S.fix) return marker;
    const at = [S.fix.lat, S.fix.long];
    if (!marker) {
      marker = window.L.circleMarker(at, {
        pane: "field-markers", radius: 7, color: "#ffffff", weight: 3,
        fillColor: "#1a73e8", fillOpacity: 1,
      }).addTo(map);
    } else {
      marker.setLatLng(at);
    }
    return marker;
  }

  Object.assign(F, { makeMap, ownMarker });
})();
