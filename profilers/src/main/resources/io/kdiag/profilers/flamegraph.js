(function () {
  'use strict';
  var svg = document.getElementById('flamegraph');
  if (!svg) {
    return;
  }
  var x0 = Number(svg.dataset.x0);
  var width = Number(svg.dataset.width);
  var total = Number(svg.dataset.total);
  var unit = svg.dataset.unit;
  var details = document.getElementById('details');
  var matched = document.getElementById('matched');
  var search = document.getElementById('search');
  var frames = Array.prototype.map.call(svg.querySelectorAll('g.f'), function (g) {
    return {
      g: g, rect: g.querySelector('rect'), text: g.querySelector('text'), name: g.dataset.n,
      start: Number(g.dataset.s), value: Number(g.dataset.v), depth: Number(g.dataset.d),
      fill: g.querySelector('rect').getAttribute('fill')
    };
  });
  var byElement = new Map(frames.map(function (f) { return [f.g, f]; }));
  var root = frames.find(function (f) { return f.depth === 0; });

  function frameOf(target) {
    var g = target.closest ? target.closest('g.f') : null;
    return g ? byElement.get(g) : null;
  }

  function percent(v) {
    return (100 * v / total).toFixed(2) + '%';
  }

  // the same estimate as the server side: 7 units per character of 12px monospace, 3 units of padding each side
  function label(f, w) {
    var max = Math.floor((w - 6) / 7);
    f.text.textContent = max < 3 ? '' : f.name.length <= max ? f.name : f.name.slice(0, max - 2) + '..';
  }

  // shows z full width with its descendants scaled to it and its ancestors faded below it; hides the rest
  function zoom(z) {
    frames.forEach(function (f) {
      var inside = f.depth >= z.depth && f.start >= z.start && f.start + f.value <= z.start + z.value;
      var ancestor = f.depth < z.depth && f.start <= z.start && f.start + f.value >= z.start + z.value;
      f.g.style.display = inside || ancestor ? '' : 'none';
      if (!inside && !ancestor) {
        return;
      }
      var x = ancestor ? x0 : x0 + (f.start - z.start) / z.value * width;
      var w = ancestor ? width : f.value / z.value * width;
      f.rect.setAttribute('x', x.toFixed(2));
      f.rect.setAttribute('width', w.toFixed(2));
      f.text.setAttribute('x', (x + 3).toFixed(2));
      f.g.classList.toggle('ancestor', ancestor);
      label(f, w);
    });
  }

  svg.addEventListener('click', function (e) {
    var f = frameOf(e.target);
    if (f) {
      zoom(f);
    }
  });
  svg.addEventListener('mouseover', function (e) {
    var f = frameOf(e.target);
    if (f) {
      details.textContent = f.name + ' \u2014 ' + f.value.toLocaleString('en') + ' ' + unit + ' (' + percent(f.value) + ')';
    }
  });
  svg.addEventListener('mouseleave', function () {
    details.textContent = '\u00a0';
  });
  document.getElementById('reset').addEventListener('click', function () {
    zoom(root);
  });
  search.addEventListener('input', function () {
    var term = search.value.toLowerCase();
    var hits = [];
    frames.forEach(function (f) {
      var hit = term !== '' && f.name.toLowerCase().indexOf(term) >= 0;
      f.rect.setAttribute('fill', hit ? 'rgb(230,0,230)' : f.fill);
      if (hit) {
        hits.push(f);
      }
    });
    // the share of the total under any match: a match nested in another is not counted twice
    hits.sort(function (a, b) { return a.start - b.start; });
    var covered = 0;
    var end = -1;
    hits.forEach(function (f) {
      var from = Math.max(f.start, end);
      var to = f.start + f.value;
      if (to > from) {
        covered += to - from;
        end = to;
      }
    });
    matched.textContent = term === '' ? '' : hits.length + ' frames match, ' + percent(covered) + ' of the total';
  });
})();
