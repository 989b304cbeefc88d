// The area mosaic under a plotly map, from its tiled pyramid (detection/mapping/pyramid.py): always the coarsest
// level (one tile or a few, so that panning and zooming out never show a hole), and over it the tiles in view of
// the level that fits the view: the coarsest one with at least one of its pixels per screen pixel. After each
// zoom or pan (a plotly_relayout of the axes) only the tiles then in view are asked for; the browser keeps the
// ones it has (they are cached a day: a mosaic never changes, a rebuild is another job).
// A mosaic stored before tiles (`mosaic.url`, no `mosaic.tiles`) is one image of one level, as it always was.
(function () {
  "use strict";

  function imageAt(source, x, y, sizex, sizey, name) {
    return { source: source, name: name, xref: "x", yref: "y", x: x, y: y, sizex: sizex, sizey: sizey,
             xanchor: "left", yanchor: "top", sizing: "stretch", layer: "below" };
  }

  // The layout images of `level`'s tiles that meet `view` ({x: [lo, hi], y: [lo, hi]} metres; null: all).
  function levelTiles(mosaic, level, view) {
    const tiles = mosaic.tiles, size = tiles.size;
    const [width, height] = tiles.levels[level];
    const sx = mosaic.width / width, sy = mosaic.height / height;  // metres per pixel of this level
    const columns = Math.ceil(width / size), rows = Math.ceil(height / size);
    let c0 = 0, c1 = columns - 1, r0 = 0, r1 = rows - 1;
    if (view) {
      const span = (v) => [Math.min(v[0], v[1]), Math.max(v[0], v[1])];
      const [x0, x1] = span(view.x), [y0, y1] = span(view.y);
      c0 = Math.max(c0, Math.floor((x0 - mosaic.x) / (sx * size)));
      c1 = Math.min(c1, Math.floor((x1 - mosaic.x) / (sx * size)));
      r0 = Math.max(r0, Math.floor((mosaic.y - y1) / (sy * size)));
      r1 = Math.min(r1, Math.floor((mosaic.y - y0) / (sy * size)));
    }
    const images = [];
    for (let row = r0; row <= r1; row++) {
      for (let column = c0; column <= c1; column++) {
        const name = level + "/" + column + "/" + row;
        images.push(imageAt(tiles.url + name + ".jpg", mosaic.x + column * size * sx, mosaic.y - row * size * sy,
                            Math.min(size, width - column * size) * sx, Math.min(size, height - row * size) * sy,
                            name));
      }
    }
    return images;
  }

  // The level that fits `metresPerPixel` of screen: the coarsest at least as sharp, else the finest (0).
  function levelFor(mosaic, metresPerPixel) {
    let chosen = 0;
    mosaic.tiles.levels.forEach((size, index) => {
      if (mosaic.width / size[0] <= metresPerPixel) chosen = index;
    });
    return chosen;
  }

  window.skerryMosaic = {
    // The layout images of the first plot: the coarsest level's tiles (or an older mosaic's one image).
    images: function (mosaic) {
      if (!mosaic) return [];
      if (!mosaic.tiles) return [imageAt(mosaic.url, mosaic.x, mosaic.y, mosaic.width, mosaic.height, "level")];
      return levelTiles(mosaic, mosaic.tiles.levels.length - 1, null);
    },

    // After the first plot: the tiles of the level that fits the view, now and after every zoom or pan.
    follow: function (plot, mosaic) {
      if (!mosaic || !mosaic.tiles) return;
      const coarsest = mosaic.tiles.levels.length - 1;
      let shown = "", timer = null;

      function refresh() {
        const xaxis = plot._fullLayout.xaxis, yaxis = plot._fullLayout.yaxis;
        const view = { x: xaxis.range.slice(), y: yaxis.range.slice() };
        const screen = Math.max(1, xaxis._length) * (window.devicePixelRatio || 1);
        const level = levelFor(mosaic, Math.abs(view.x[1] - view.x[0]) / screen);
        const images = levelTiles(mosaic, coarsest, null)
          .concat(level < coarsest ? levelTiles(mosaic, level, view) : []);
        const key = images.map((image) => image.name).join(" ");
        plot.dataset.tileLevel = String(level);
        if (key !== shown) {
          shown = key;
          Plotly.relayout(plot, { images: images });
        }
      }

      plot.on("plotly_relayout", (change) => {  // a zoom, a pan, a resize; not the images this sets itself
        if (!Object.keys(change).some((key) => /^(xaxis|yaxis|autosize)/.test(key))) return;
        clearTimeout(timer);
        timer = setTimeout(refresh, 120);
      });
      shown = levelTiles(mosaic, coarsest, null).map((image) => image.name).join(" ");  // the first plot's
      refresh();
    },
  };
})();
