/*
 * The wall's camera tiles play live video: whenever wall_tiles.js assigns cameras to tiles
 * (CommandHall.cameraTiles hook), each tile whose camera changed stops its old player and
 * starts one for the new camera (assets/js/camera_player.js); a tile left empty stops.
 * The player's status goes to the tile's status line, so a tile that lost its stream says
 * so until the player has it back.
 */
(function () {
  "use strict";

  var CH = (window.CommandHall = window.CommandHall || {});

  var video = {
    playing: {}, // tile number → {cameraId, player, video}

    assign: function (tiles) {
      var self = this;
      var strings = CH.readStrings(document.querySelector("[data-ch-view]"));
      tiles.forEach(function (tile) {
        var now = self.playing[tile.tile];
        if (now && now.cameraId === tile.cameraId && now.video === tile.video) {
          return;
        }
        if (now) {
          now.player.stop();
          delete self.playing[tile.tile];
        }
        if (tile.cameraId === null || !CH.cameraPlayer) {
          return;
        }
        var player = CH.cameraPlayer.play(tile.video, tile.cameraId, {
          strings: strings,
          onStatus: function (kind, text) {
            CH.wallTiles.setStatus(tile.tile, text, kind === "connecting" ? "waiting" : kind);
          },
        });
        self.playing[tile.tile] = { cameraId: tile.cameraId, player: player, video: tile.video };
      });
      // Tiles that no longer exist (the wall was rebuilt with fewer tiles).
      var wanted = {};
      tiles.forEach(function (tile) {
        wanted[tile.tile] = true;
      });
      Object.keys(this.playing).forEach(function (n) {
        if (!wanted[n]) {
          self.playing[n].player.stop();
          delete self.playing[n];
        }
      });
    },
  };

  CH.wallVideo = video;
  CH.cameraTiles = video;
})();
