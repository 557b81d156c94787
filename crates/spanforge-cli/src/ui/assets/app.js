// spanforge web UI: a single-page app over the JSON API of `spanforge serve` (/api/...).
//
// No dependencies and no build step. Every string that comes from the API is put into the page
// with textContent or setAttribute, never parsed as HTML. Pages, by hash route:
//   #/traces[?service=&route=&status=&min_ms=&max_ms=&llm=&since=&limit=]
//   #/traces/<trace_id>[?span=<span_id>]
//   #/llm[?group=prompt|model|provider|route&since=]
//   #/services[?since=]
// While a page loads, <main id="view"> has data-state="loading"; once drawn, data-state="ready"
// (or "error") and data-hash is the hash it shows.
'use strict';

(() => {
  const view = document.getElementById('view');

  const RANGES = [
    ['15m', '15 min'],
    ['1h', '1 hour'],
    ['24h', '24 hours'],
    ['7d', '7 days'],
    ['all', 'All'],
  ];
  const GROUPS = [
    ['prompt', 'Prompt'],
    ['model', 'Model'],
    ['provider', 'Provider'],
    ['route', 'Route'],
  ];
  const PAGE_SIZE = 50;

  // ---------------------------------------------------------------- DOM helpers

  // h('td', {class: 'num', 'data-key': 'calls'}, 'text', node, [more]) builds an element.
  // Props: class, text, on<event> (a listener), style (an object of CSS properties), and
  // anything else as an attribute (null/undefined/false: left out).
  function h(tag, props, ...children) {
    const el = document.createElement(tag);
    if (props) {
      for (const [key, value] of Object.entries(props)) {
        if (value === null || value === undefined || value === false) continue;
        if (key === 'class') el.className = value;
        else if (key === 'text') el.textContent = String(value);
        else if (key === 'style') {
          for (const [prop, v] of Object.entries(value)) el.style.setProperty(prop, v);
        } else if (key.startsWith('on') && typeof value === 'function') {
          el.addEventListener(key.slice(2), value);
        } else el.setAttribute(key, value === true ? '' : String(value));
      }
    }
    add(el, children);
    return el;
  }

  function add(el, children) {
    for (const child of children.flat(Infinity)) {
      if (child === null || child === undefined || child === false) continue;
      el.append(child instanceof Node ? child : String(child));
    }
    return el;
  }

  // ---------------------------------------------------------------- formatting

  const nf = new Intl.NumberFormat('en-US');

  function fmtInt(n) {
    return n === null || n === undefined ? '—' : nf.format(Math.round(n));
  }

  // US dollars with enough digits for tiny amounts: $12.34, $0.0123, $0.000123.
  function fmtUSD(n) {
    if (n === null || n === undefined || !Number.isFinite(n)) return '—';
    if (n === 0) return '$0';
    const sign = n < 0 ? '-' : '';
    const a = Math.abs(n);
    if (a >= 1) {
      return sign + '$' + a.toLocaleString('en-US', {
        minimumFractionDigits: 2,
        maximumFractionDigits: 2,
      });
    }
    if (a < 1e-10) return sign + '$' + a.toExponential(2);
    const digits = a >= 0.01 ? 4 : Math.min(12, Math.ceil(-Math.log10(a)) + 2);
    const text = a.toFixed(digits).replace(/0+$/, '').replace(/\.$/, '');
    return sign + '$' + text;
  }

  function fmtDuration(ms) {
    if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
    if (ms === 0) return '0 ms';
    if (ms < 1) return Number((ms * 1000).toPrecision(3)) + ' µs';
    if (ms < 10) return ms.toFixed(2) + ' ms';
    if (ms < 1000) return ms.toFixed(1) + ' ms';
    if (ms < 60000) return (ms / 1000).toFixed(2) + ' s';
    const minutes = Math.floor(ms / 60000);
    return minutes + ' min ' + Math.round((ms - minutes * 60000) / 1000) + ' s';
  }

  function fmtPercent(rate) {
    if (rate === null || rate === undefined || !Number.isFinite(rate)) return '—';
    if (rate === 0) return '0%';
    const pct = rate * 100;
    if (pct < 0.1) return '<0.1%';
    return (pct >= 10 ? pct.toFixed(0) : pct.toFixed(1)) + '%';
  }

  function fmtRate(perSecond) {
    if (perSecond === null || perSecond === undefined || !Number.isFinite(perSecond)) return '—';
    if (perSecond === 0) return '0/s';
    if (perSecond >= 100) return perSecond.toFixed(0) + '/s';
    if (perSecond >= 1) return perSecond.toFixed(2) + '/s';
    return Number(perSecond.toPrecision(2)) + '/s';
  }

  const pad = (n, width = 2) => String(n).padStart(width, '0');

  // Local time, to the millisecond: 2025-11-28 18:20:00.123.
  function fmtTime(unixMs) {
    if (unixMs === null || unixMs === undefined) return '—';
    const d = new Date(unixMs);
    if (Number.isNaN(d.getTime())) return '—';
    return d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()) + ' ' +
      pad(d.getHours()) + ':' + pad(d.getMinutes()) + ':' + pad(d.getSeconds()) + '.' +
      pad(d.getMilliseconds(), 3);
  }

  function isoTime(unixMs) {
    const d = new Date(unixMs);
    return Number.isNaN(d.getTime()) ? '' : d.toISOString();
  }

  // An attribute value as text: strings as they are, anything else as JSON.
  function fmtValue(value) {
    if (typeof value === 'string') return value;
    try {
      return JSON.stringify(value);
    } catch {
      return String(value);
    }
  }

  // A stable hue per service name, for its colour in the waterfall.
  function hue(name) {
    let hash = 2166136261;
    for (let i = 0; i < name.length; i++) {
      hash ^= name.charCodeAt(i);
      hash = Math.imul(hash, 16777619);
    }
    return String(((hash >>> 0) % 360));
  }

  // ---------------------------------------------------------------- routing and data

  // "#/traces/abc?x=1" -> {parts: ['traces', 'abc'], params: URLSearchParams}
  function parseHash() {
    const raw = location.hash.replace(/^#/, '');
    const q = raw.indexOf('?');
    const path = q < 0 ? raw : raw.slice(0, q);
    const params = new URLSearchParams(q < 0 ? '' : raw.slice(q + 1));
    const parts = path.split('/').filter(Boolean).map((part) => {
      try {
        return decodeURIComponent(part);
      } catch {
        return part;
      }
    });
    return { parts, params };
  }

  // '#/' + path + '?' + the non-empty params, in the order given.
  function hashFor(path, params) {
    const q = new URLSearchParams();
    for (const [key, value] of Object.entries(params || {})) {
      if (value !== null && value !== undefined && value !== '') q.set(key, value);
    }
    const query = q.toString();
    return '#/' + path + (query ? '?' + query : '');
  }

  function go(path, params) {
    const next = hashFor(path, params);
    if (next === location.hash) render();
    else location.hash = next;
  }

  class ApiError extends Error {}

  async function api(path) {
    let response;
    try {
      response = await fetch(path, { headers: { Accept: 'application/json' } });
    } catch {
      throw new ApiError('Cannot reach the spanforge server.');
    }
    let body = null;
    try {
      body = await response.json();
    } catch {
      body = null;
    }
    if (!response.ok) {
      const message = body && typeof body.error === 'string' ? body.error : response.statusText;
      throw new ApiError(response.status + ': ' + message);
    }
    if (body === null) throw new ApiError('The server sent an answer that is not JSON.');
    return body;
  }

  let metaCache = null;
  function meta() {
    if (!metaCache) {
      metaCache = api('/api/meta').catch((error) => {
        metaCache = null;
        throw error;
      });
    }
    return metaCache;
  }

  // ---------------------------------------------------------------- shared widgets

  // A row of toggle buttons; `current` is pressed; choosing one calls onPick(value).
  function segmented(label, testidPrefix, options, current, onPick) {
    return h('div', { class: 'segmented', role: 'group', 'aria-label': label },
      options.map(([value, text]) => h('button', {
        type: 'button',
        'data-testid': testidPrefix + value,
        'aria-pressed': value === current ? 'true' : 'false',
        onclick: () => onPick(value),
      }, text)));
  }

  function rangeOf(params) {
    const since = params.get('since');
    return RANGES.some(([value]) => value === since) ? since : 'all';
  }

  function sinceQuery(range) {
    return range === 'all' ? '' : 'since=' + encodeURIComponent(range);
  }

  function emptyState(text) {
    return h('p', { class: 'empty', 'data-testid': 'empty' }, text);
  }

  // A sortable table. columns: [{key, label, num, value(row), format(value, row), cell(row),
  // title}]. Numeric cells carry data-key and data-value (the exact number from the API).
  function dataTable({ testid, rowTestid, columns, rows, rowProps, footer, caption }) {
    let sortKey = null;
    let sortDir = 1;
    const tbody = h('tbody');
    const headRow = h('tr');

    function cellFor(column, row) {
      if (column.num) {
        const value = column.value(row);
        const present = value !== null && value !== undefined;
        return h('td', {
          class: 'num',
          title: present && column.format === fmtUSD ? '$' + value : null,
          'data-key': column.key,
          'data-value': present ? String(value) : null,
          'data-null': present ? null : 'true',
        }, column.format(present ? value : null, row));
      }
      const content = column.cell ? column.cell(row) : column.value(row);
      return h('td', { 'data-key': column.key }, content === null || content === undefined ? '' : content);
    }

    function fill() {
      const sorted = rows.slice();
      if (sortKey) {
        const column = columns.find((c) => c.key === sortKey);
        sorted.sort((a, b) => {
          const x = column.value(a);
          const y = column.value(b);
          if (x === y) return 0;
          if (x === null || x === undefined) return 1;
          if (y === null || y === undefined) return -1;
          return (x < y ? -1 : 1) * sortDir;
        });
      }
      tbody.replaceChildren(...sorted.map((row) => {
        const props = Object.assign({ 'data-testid': rowTestid }, rowProps ? rowProps(row) : {});
        return h('tr', props, columns.map((column) => cellFor(column, row)));
      }));
      for (const th of headRow.children) {
        const key = th.getAttribute('data-key');
        th.setAttribute('aria-sort', key === sortKey ? (sortDir > 0 ? 'ascending' : 'descending') : 'none');
      }
    }

    for (const column of columns) {
      const button = h('button', {
        type: 'button',
        class: 'sort',
        title: column.title || 'Sort by ' + column.label,
        onclick: () => {
          if (sortKey === column.key) sortDir = -sortDir;
          else {
            sortKey = column.key;
            sortDir = column.num ? -1 : 1;
          }
          fill();
        },
      }, column.label);
      headRow.append(h('th', { scope: 'col', class: column.num ? 'num' : null, 'data-key': column.key }, button));
    }
    fill();
    return h('div', { class: 'table-wrap' },
      h('table', { class: 'data', 'data-testid': testid },
        caption ? h('caption', null, caption) : null,
        h('thead', null, headRow),
        tbody,
        footer ? h('tfoot', null, footer(cellFor)) : null));
  }

  // ---------------------------------------------------------------- traces list

  const TRACE_FILTERS = ['service', 'route', 'status', 'min_ms', 'max_ms', 'llm', 'since', 'limit'];

  async function tracesPage(params) {
    const filters = {};
    for (const key of TRACE_FILTERS) filters[key] = params.get(key) || '';
    const limit = Math.max(1, parseInt(filters.limit, 10) || PAGE_SIZE);
    const range = rangeOf(params);

    const query = new URLSearchParams();
    for (const key of ['service', 'route', 'status', 'min_ms', 'max_ms', 'llm']) {
      if (filters[key]) query.set(key, filters[key]);
    }
    if (range !== 'all') query.set('since', range);
    query.set('limit', String(limit));

    const [metaData, data] = await Promise.all([meta(), api('/api/traces?' + query)]);
    const traces = Array.isArray(data.traces) ? data.traces : [];

    const apply = (changes) => {
      const next = Object.assign({}, filters, changes);
      if (!('limit' in changes)) next.limit = '';
      go('traces', next);
    };

    const select = (name, label, options) => h('label', null, label,
      h('select', {
        name,
        'data-testid': 'filter-' + name,
        onchange: (event) => apply({ [name]: event.target.value }),
      }, options.map(([value, text]) => h('option', {
        value,
        selected: value === filters[name] ? true : null,
      }, text))));

    const withCurrent = (list, current) => {
      const values = Array.isArray(list) ? list.slice() : [];
      if (current && !values.includes(current)) values.push(current);
      return values.map((value) => [value, value]);
    };

    const number = (name, label) => h('label', null, label,
      h('input', {
        type: 'number',
        name,
        min: '0',
        step: 'any',
        inputmode: 'decimal',
        placeholder: 'ms',
        value: filters[name],
        'data-testid': 'filter-' + name,
        onchange: (event) => apply({ [name]: event.target.value }),
      }));

    const form = h('form', {
      class: 'filters',
      'data-testid': 'trace-filters',
      onsubmit: (event) => event.preventDefault(),
    },
    select('service', 'Service', [['', 'All services'], ...withCurrent(metaData.services, filters.service)]),
    select('route', 'Route', [['', 'All routes'], ...withCurrent(metaData.routes, filters.route)]),
    select('status', 'Status', [['', 'Any'], ['ok', 'OK'], ['error', 'Error']]),
    number('min_ms', 'Min duration'),
    number('max_ms', 'Max duration'),
    select('llm', 'LLM call', [['', 'Any'], ['true', 'With LLM call'], ['false', 'Without']]),
    select('since', 'Time range', RANGES.map(([value, text]) => [value === 'all' ? '' : value, text])),
    h('button', {
      type: 'button',
      class: 'link',
      'data-testid': 'filter-clear',
      onclick: () => go('traces', {}),
    }, 'Clear'));

    const longest = traces.reduce((max, t) => Math.max(max, t.duration_ms || 0), 0) || 1;
    const columns = [
      {
        key: 'start', label: 'Start', value: (t) => t.start_unix_ms,
        cell: (t) => h('time', { datetime: isoTime(t.start_unix_ms), title: isoTime(t.start_unix_ms) }, fmtTime(t.start_unix_ms)),
      },
      {
        key: 'name', label: 'Root', value: (t) => t.name,
        cell: (t) => h('span', { class: 'root-name' },
          h('a', { href: hashFor('traces/' + encodeURIComponent(t.trace_id)), 'data-testid': 'trace-link' }, t.name || '(unnamed)'),
          t.route && !String(t.name || '').endsWith(t.route) ? h('span', { class: 'muted route' }, t.route) : null),
      },
      {
        key: 'service', label: 'Service', value: (t) => t.service,
        cell: (t) => h('span', { class: 'svc', style: { '--hue': hue(t.service || '') } }, t.service || ''),
      },
      {
        key: 'duration_ms', label: 'Duration', num: true, value: (t) => t.duration_ms,
        format: (v) => h('span', { class: 'duration' },
          h('span', { class: 'minibar', style: { width: ((v || 0) / longest * 100).toFixed(2) + '%' } }),
          h('span', null, fmtDuration(v))),
      },
      { key: 'span_count', label: 'Spans', num: true, value: (t) => t.span_count, format: fmtInt },
      {
        key: 'error_count', label: 'Errors', num: true, value: (t) => t.error_count,
        format: (v) => v ? h('span', { class: 'bad' }, fmtInt(v)) : fmtInt(v),
      },
      { key: 'llm_calls', label: 'LLM calls', num: true, value: (t) => t.llm_calls, format: fmtInt },
      { key: 'cost_usd', label: 'Cost', num: true, value: (t) => t.cost_usd, format: fmtUSD },
    ];

    const table = traces.length
      ? dataTable({
        testid: 'traces-table',
        rowTestid: 'trace-row',
        columns,
        rows: traces,
        rowProps: (t) => ({
          class: 'clickable' + (t.error_count > 0 ? ' error' : ''),
          'data-trace-id': t.trace_id,
          onclick: (event) => {
            if (event.target.closest('a')) return;
            location.hash = hashFor('traces/' + encodeURIComponent(t.trace_id));
          },
        }),
      })
      : emptyState('No traces match. Send OTLP to this server, or widen the filters.');

    const more = traces.length >= limit
      ? h('button', {
        type: 'button',
        'data-testid': 'traces-more',
        onclick: () => apply({ limit: String(limit + PAGE_SIZE) }),
      }, 'Show more')
      : null;

    return h('section', { class: 'page' },
      h('div', { class: 'page-head' },
        h('h1', null, 'Traces'),
        h('span', { class: 'muted', 'data-testid': 'traces-count' },
          traces.length + (traces.length === 1 ? ' trace' : ' traces') + (more ? ' (newest first; more available)' : ' (newest first)'))),
      form, table, more);
  }

  // ---------------------------------------------------------------- trace waterfall

  // An attribute name that may wrap after each dot: gen_ai.usage.<wbr>input_tokens.
  function breakable(name) {
    return name.split('.').flatMap((part, i) => (i ? [h('wbr'), '.' + part] : [part]));
  }

  function kvTable(testid, object) {
    const keys = Object.keys(object || {}).sort();
    if (!keys.length) return h('p', { class: 'muted', 'data-testid': testid }, 'None');
    return h('table', { class: 'kv', 'data-testid': testid },
      h('tbody', null, keys.map((key) => h('tr', { 'data-attr': key },
        h('th', { scope: 'row' }, breakable(key)),
        h('td', null, fmtValue(object[key]))))));
  }

  function spanDetail(trace, span) {
    const logs = (trace.logs || []).filter((log) => log.span_id && log.span_id === span.span_id);
    const attrs = span.attributes || {};
    const rows = [
      ['Service', span.service],
      ['Kind', span.kind],
      ['Status', span.status + (span.status_message ? ': ' + span.status_message : '')],
      ['Start', '+' + fmtDuration(span.offset_ms)],
      ['Duration', fmtDuration(span.duration_ms)],
      ['Span ID', span.span_id],
      ['Parent span ID', span.parent_span_id || '(root)'],
    ];
    if (typeof attrs['gen_ai.usage.cost'] === 'number') rows.push(['LLM cost', fmtUSD(attrs['gen_ai.usage.cost'])]);
    return h('div', { class: 'detail-body', 'data-testid': 'span-detail', 'data-span-id': span.span_id },
      h('h2', { class: span.status === 'error' ? 'bad' : null }, span.name || '(unnamed)'),
      h('table', { class: 'kv summary' }, h('tbody', null, rows.map(([key, value]) =>
        h('tr', null, h('th', { scope: 'row' }, key), h('td', null, value === null || value === undefined ? '' : String(value)))))),
      h('h3', null, 'Attributes'),
      kvTable('span-attributes', attrs),
      h('h3', null, 'Resource'),
      kvTable('span-resource', span.resource),
      h('h3', null, 'Events'),
      (span.events || []).length
        ? h('ol', { class: 'events', 'data-testid': 'span-events' }, span.events.map((event) =>
          h('li', null,
            h('span', { class: 'offset' }, '+' + fmtDuration(event.offset_ms)), ' ',
            h('strong', null, event.name || '(unnamed)'),
            Object.keys(event.attributes || {}).length ? kvTable('event-attributes', event.attributes) : null)))
        : h('p', { class: 'muted', 'data-testid': 'span-events' }, 'None'),
      h('h3', null, 'Logs'),
      logList('span-logs', logs));
  }

  function logList(testid, logs) {
    if (!logs.length) return h('p', { class: 'muted', 'data-testid': testid }, 'None');
    return h('ol', { class: 'logs', 'data-testid': testid }, logs.map((log) => {
      const severity = String(log.severity || '').toUpperCase();
      const level = severity.startsWith('ERROR') || severity.startsWith('FATAL') ? 'bad'
        : severity.startsWith('WARN') ? 'warn' : '';
      return h('li', { 'data-testid': 'log-row' },
        h('span', { class: 'offset' }, '+' + fmtDuration(log.offset_ms)), ' ',
        h('span', { class: 'severity ' + level }, severity || '—'), ' ',
        h('span', { class: 'body' }, fmtValue(log.body === undefined ? '' : log.body)),
        Object.keys(log.attributes || {}).length ? kvTable('log-attributes', log.attributes) : null);
    }));
  }

  async function tracePage(traceId, params) {
    const trace = await api('/api/traces/' + encodeURIComponent(traceId));
    const spans = Array.isArray(trace.spans) ? trace.spans : [];
    const total = trace.duration_ms > 0 ? trace.duration_ms
      : spans.reduce((max, s) => Math.max(max, (s.offset_ms || 0) + (s.duration_ms || 0)), 0) || 1;
    const pct = (ms) => Math.min(100, Math.max(0, (ms || 0) / total * 100));

    const serviceOf = new Map(spans.map((s) => [s.span_id, s.service]));
    const hasChildren = new Set(spans.map((s) => s.parent_span_id).filter(Boolean));
    const errors = spans.filter((s) => s.status === 'error').length;
    const llmSpans = spans.filter((s) => s.attributes && s.attributes['gen_ai.operation.name'] !== undefined);
    const cost = llmSpans.reduce((sum, s) => sum + (typeof s.attributes['gen_ai.usage.cost'] === 'number' ? s.attributes['gen_ai.usage.cost'] : 0), 0);
    const root = spans.find((s) => !s.parent_span_id) || spans[0];

    const detail = h('aside', { class: 'detail', 'aria-label': 'Span details' });
    const rows = [];
    let selected = null;

    function select(span, row) {
      if (selected) selected.classList.remove('selected');
      selected = row;
      row.classList.add('selected');
      row.setAttribute('aria-selected', 'true');
      for (const other of rows) if (other !== row) other.removeAttribute('aria-selected');
      detail.replaceChildren(spanDetail(trace, span));
      const next = hashFor('traces/' + encodeURIComponent(traceId), { span: span.span_id });
      if (location.hash !== next) history.replaceState(null, '', next);
      view.dataset.hash = location.hash;
    }

    function relayout() {
      let hideBelow = Infinity;
      for (const row of rows) {
        const depth = Number(row.dataset.depth);
        if (depth > hideBelow) {
          row.hidden = true;
          continue;
        }
        row.hidden = false;
        hideBelow = row.classList.contains('collapsed') ? depth : Infinity;
      }
    }

    const ticks = [0, 0.25, 0.5, 0.75, 1];
    const axis = h('div', { class: 'wf-row wf-head' },
      h('div', { class: 'wf-name' }, 'Span'),
      h('div', { class: 'wf-dur' }, 'Duration'),
      h('div', { class: 'wf-time axis' }, ticks.map((t) =>
        h('span', { class: 'tick', style: { left: (t * 100) + '%' } }, fmtDuration(total * t)))));

    for (const span of spans) {
      const depth = Number(span.depth) || 0;
      const isError = span.status === 'error';
      const isLlm = span.attributes && span.attributes['gen_ai.operation.name'] !== undefined;
      const left = pct(span.offset_ms);
      const width = Math.max(0.15, Math.min(100 - left, pct(span.duration_ms)));
      const toggle = hasChildren.has(span.span_id)
        ? h('button', {
          type: 'button',
          class: 'toggle',
          'aria-expanded': 'true',
          title: 'Collapse or expand the children',
          onclick: (event) => {
            event.stopPropagation();
            const collapsed = row.classList.toggle('collapsed');
            event.currentTarget.setAttribute('aria-expanded', collapsed ? 'false' : 'true');
            relayout();
          },
        })
        : h('span', { class: 'toggle-space' });
      const bar = h('div', {
        class: 'bar' + (isError ? ' error' : '') + (isLlm ? ' llm' : ''),
        style: { left: left.toFixed(4) + '%', width: width.toFixed(4) + '%', '--hue': hue(span.service || '') },
      }, (span.events || []).map((event) => h('span', {
        class: 'event-mark',
        title: event.name,
        style: { left: (span.duration_ms > 0 ? Math.min(100, Math.max(0, ((event.offset_ms || 0) - (span.offset_ms || 0)) / span.duration_ms * 100)) : 0).toFixed(2) + '%' },
      })));
      const row = h('div', {
        class: 'wf-row span' + (isError ? ' error' : ''),
        role: 'row',
        tabindex: '0',
        'data-testid': 'span-row',
        'data-span-id': span.span_id,
        'data-parent-span-id': span.parent_span_id || '',
        'data-depth': String(depth),
        'data-status': span.status,
        'data-name': span.name,
        onclick: () => select(span, row),
        onkeydown: (event) => {
          if (event.key === 'Enter' || event.key === ' ') {
            event.preventDefault();
            select(span, row);
          } else if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
            event.preventDefault();
            const visible = rows.filter((r) => !r.hidden);
            const next = visible[visible.indexOf(row) + (event.key === 'ArrowDown' ? 1 : -1)];
            if (next) {
              next.focus();
              next.click();
            }
          }
        },
      },
      h('div', { class: 'wf-name', style: { '--depth': String(depth) } },
        toggle,
        // The service is named where it changes; the bar's colour carries it everywhere.
        serviceOf.get(span.parent_span_id) !== span.service
          ? [h('span', { class: 'svc', style: { '--hue': hue(span.service || '') }, title: span.service }, span.service || ''), ' ']
          : null,
        h('span', { class: 'span-name', title: span.name }, span.name || '(unnamed)'),
        isLlm ? h('span', { class: 'badge llm', title: 'LLM call' }, 'LLM') : null,
        isError ? h('span', { class: 'badge bad', 'data-testid': 'span-error', title: span.status_message || 'error' }, 'error') : null),
      h('div', { class: 'wf-dur' }, fmtDuration(span.duration_ms)),
      h('div', { class: 'wf-time' }, bar));
      rows.push(row);
    }

    const orphanLogs = (trace.logs || []).filter((log) => !log.span_id || !spans.some((s) => s.span_id === log.span_id));

    const page = h('section', { class: 'page trace', 'data-testid': 'trace', 'data-trace-id': trace.trace_id },
      h('p', { class: 'crumbs' }, h('a', { href: '#/traces' }, '← Traces')),
      h('div', { class: 'page-head' },
        h('h1', null, root ? root.name || '(unnamed)' : 'Trace'),
        h('code', { class: 'muted', 'data-testid': 'trace-id' }, trace.trace_id)),
      h('dl', { class: 'facts' },
        h('div', null, h('dt', null, 'Start'), h('dd', { title: isoTime(trace.start_unix_ms) }, fmtTime(trace.start_unix_ms))),
        h('div', null, h('dt', null, 'Duration'), h('dd', null, fmtDuration(trace.duration_ms))),
        h('div', null, h('dt', null, 'Spans'), h('dd', null, fmtInt(spans.length))),
        h('div', null, h('dt', null, 'Errors'), h('dd', { class: errors ? 'bad' : null }, fmtInt(errors))),
        h('div', null, h('dt', null, 'LLM calls'), h('dd', null, fmtInt(llmSpans.length))),
        h('div', null, h('dt', null, 'LLM cost'), h('dd', null, fmtUSD(cost)))),
      h('div', { class: 'trace-layout' },
        h('div', { class: 'waterfall', role: 'grid', 'aria-label': 'Spans', 'data-testid': 'waterfall' }, axis, rows),
        detail),
      orphanLogs.length ? [h('h2', null, 'Logs without a span'), logList('trace-logs', orphanLogs)] : null);

    const wanted = params.get('span');
    const index = Math.max(0, spans.findIndex((s) => s.span_id === wanted));
    if (spans.length) select(spans[index], rows[index]);
    else detail.append(emptyState('This trace has no spans.'));
    return page;
  }

  // ---------------------------------------------------------------- LLM cost

  async function llmPage(params) {
    const group = GROUPS.some(([value]) => value === params.get('group')) ? params.get('group') : 'prompt';
    const range = rangeOf(params);
    const since = sinceQuery(range);
    const data = await api('/api/llm?group=' + group + (since ? '&' + since : ''));
    const rows = Array.isArray(data.rows) ? data.rows : [];
    const totals = data.totals || {};
    const totalCost = totals.cost_usd || 0;

    const none = (text) => h('span', { class: 'muted none' }, text);
    const keyColumns = {
      prompt: [
        { key: 'prompt_name', label: 'Prompt', value: (r) => r.prompt_name, cell: (r) => r.prompt_name === null || r.prompt_name === undefined ? none('(no prompt)') : r.prompt_name },
        { key: 'prompt_version', label: 'Version', value: (r) => r.prompt_version, cell: (r) => r.prompt_version === null || r.prompt_version === undefined ? none('—') : 'v' + r.prompt_version },
      ],
      model: [{ key: 'model', label: 'Model', value: (r) => r.model, cell: (r) => r.model === null || r.model === undefined ? none('(unknown)') : r.model }],
      provider: [{ key: 'provider', label: 'Provider', value: (r) => r.provider, cell: (r) => r.provider === null || r.provider === undefined ? none('(unknown)') : r.provider }],
      route: [{ key: 'route', label: 'Route', value: (r) => r.route, cell: (r) => r.route === null || r.route === undefined ? none('(no route)') : r.route }],
    }[group];

    const num = (key, label, format, title) => ({ key, label, num: true, value: (r) => r[key], format, title });
    const columns = [
      ...keyColumns,
      num('calls', 'Calls', fmtInt),
      num('input_tokens', 'Input tokens', fmtInt, 'Input tokens, cached ones included'),
      num('output_tokens', 'Output tokens', fmtInt),
      num('cached_tokens', 'Cached tokens', fmtInt, 'Input tokens read from the provider\'s cache'),
      {
        key: 'cost_usd', label: 'Total cost', num: true, value: (r) => r.cost_usd,
        format: (v) => h('span', { class: 'cost', title: v === null ? null : '$' + v },
          h('span', { class: 'minibar', style: { width: (totalCost > 0 && v ? v / totalCost * 100 : 0).toFixed(2) + '%' } }),
          h('span', null, fmtUSD(v))),
      },
      num('avg_cost_usd', 'Avg cost', fmtUSD, 'Cost per call'),
      num('latency_p50_ms', 'p50 latency', fmtDuration),
      num('latency_p95_ms', 'p95 latency', fmtDuration),
      num('ttfc_p50_ms', 'p50 first chunk', fmtDuration, 'Time to the first chunk of streamed answers'),
      num('ttfc_p95_ms', 'p95 first chunk', fmtDuration, 'Time to the first chunk of streamed answers'),
      num('errors', 'Errors', fmtInt),
      {
        key: 'error_rate', label: 'Error rate', num: true, value: (r) => r.error_rate,
        format: (v) => v ? h('span', { class: 'bad' }, fmtPercent(v)) : fmtPercent(v),
      },
    ];

    // The totals row: the API's totals, plus the per-call and rate figures derived from them.
    const calls = totals.calls || 0;
    const totalRow = Object.assign({}, totals, {
      avg_cost_usd: calls ? (totals.cost_usd || 0) / calls : null,
      error_rate: calls ? (totals.errors || 0) / calls : null,
    });
    const footer = (cellFor) => h('tr', { 'data-testid': 'llm-total', class: 'total' },
      h('th', { scope: 'row', colspan: String(keyColumns.length) }, 'Total'),
      columns.slice(keyColumns.length).map((column) => {
        if (['latency_p50_ms', 'latency_p95_ms', 'ttfc_p50_ms', 'ttfc_p95_ms'].includes(column.key)) {
          return h('td', { class: 'num muted', 'data-key': column.key, 'data-null': 'true' }, '');
        }
        return cellFor(column, totalRow);
      }));

    const table = rows.length
      ? dataTable({
        testid: 'llm-table',
        rowTestid: 'llm-row',
        columns,
        rows,
        footer,
        rowProps: (r) => ({
          class: r.errors > 0 ? 'has-errors' : null,
          'data-group': group,
          // The grouping's key; left out when it is null (calls without a prompt, ...).
          'data-prompt-name': group === 'prompt' ? r.prompt_name : null,
          'data-prompt-version': group === 'prompt' ? r.prompt_version : null,
          'data-model': group === 'model' ? r.model : null,
          'data-provider': group === 'provider' ? r.provider : null,
          'data-route': group === 'route' ? r.route : null,
        }),
      })
      : emptyState('No LLM calls in this time range.');

    const card = (label, value, testid) => h('div', { class: 'card', 'data-testid': testid },
      h('span', { class: 'card-label' }, label), h('span', { class: 'card-value' }, value));

    return h('section', { class: 'page llm' },
      h('div', { class: 'page-head' }, h('h1', null, 'LLM cost')),
      h('div', { class: 'toolbar' },
        segmented('Group by', 'llm-group-', GROUPS, group, (value) => go('llm', { group: value, since: range === 'all' ? '' : range })),
        segmented('Time range', 'range-', RANGES, range, (value) => go('llm', { group, since: value === 'all' ? '' : value }))),
      h('div', { class: 'cards' },
        card('Total cost', fmtUSD(totals.cost_usd), 'llm-card-cost'),
        card('Calls', fmtInt(totals.calls), 'llm-card-calls'),
        card('Tokens in / out', fmtInt(totals.input_tokens) + ' / ' + fmtInt(totals.output_tokens), 'llm-card-tokens'),
        card('Error rate', fmtPercent(totalRow.error_rate), 'llm-card-errors')),
      table);
  }

  // ---------------------------------------------------------------- services

  async function servicesPage(params) {
    const range = rangeOf(params);
    const since = sinceQuery(range);
    const data = await api('/api/services' + (since ? '?' + since : ''));
    const routes = Array.isArray(data.routes) ? data.routes : [];

    const columns = [
      {
        key: 'service', label: 'Service', value: (r) => r.service,
        cell: (r) => h('span', { class: 'svc', style: { '--hue': hue(r.service || '') } }, r.service || ''),
      },
      { key: 'method', label: 'Method', value: (r) => r.method, cell: (r) => r.method || h('span', { class: 'muted' }, '—') },
      {
        key: 'route', label: 'Route', value: (r) => r.route,
        cell: (r) => h('a', {
          href: hashFor('traces', { service: r.service, route: r.route || '', since: range === 'all' ? '' : range }),
          title: 'Traces of this route',
        }, r.route || '(no route)'),
      },
      { key: 'requests', label: 'Requests', num: true, value: (r) => r.requests, format: fmtInt },
      { key: 'rate_per_s', label: 'Rate', num: true, value: (r) => r.rate_per_s, format: fmtRate },
      { key: 'errors', label: 'Errors', num: true, value: (r) => r.errors, format: fmtInt },
      {
        key: 'error_rate', label: 'Error rate', num: true, value: (r) => r.error_rate,
        format: (v) => v ? h('span', { class: 'bad' }, fmtPercent(v)) : fmtPercent(v),
      },
      { key: 'p50_ms', label: 'p50', num: true, value: (r) => r.p50_ms, format: fmtDuration },
      { key: 'p95_ms', label: 'p95', num: true, value: (r) => r.p95_ms, format: fmtDuration },
    ];

    return h('section', { class: 'page services' },
      h('div', { class: 'page-head' }, h('h1', null, 'Services')),
      h('div', { class: 'toolbar' },
        segmented('Time range', 'range-', RANGES, range, (value) => go('services', { since: value === 'all' ? '' : value }))),
      routes.length
        ? dataTable({
          testid: 'services-table',
          rowTestid: 'service-row',
          columns,
          rows: routes,
          rowProps: (r) => ({
            class: r.errors > 0 ? 'has-errors' : null,
            'data-service': r.service,
            'data-method': r.method ?? '',
            'data-route': r.route ?? '',
          }),
        })
        : emptyState('No server spans in this time range.'));
  }

  // ---------------------------------------------------------------- rendering

  let generation = 0;

  async function render() {
    const current = ++generation;
    const { parts, params } = parseHash();
    let name = parts[0] || 'traces';
    let page;
    if (name === 'traces' && parts.length === 1) page = () => tracesPage(params);
    else if (name === 'traces' && parts.length === 2) {
      name = 'trace';
      page = () => tracePage(parts[1], params);
    } else if (name === 'llm' && parts.length === 1) page = () => llmPage(params);
    else if (name === 'services' && parts.length === 1) page = () => servicesPage(params);
    else {
      name = 'not-found';
      page = async () => h('section', { class: 'page' },
        h('h1', null, 'Not found'),
        h('p', null, 'No page here. ', h('a', { href: '#/traces' }, 'Go to the traces.')));
    }

    for (const link of document.querySelectorAll('[data-nav]')) {
      const active = link.dataset.nav === (name === 'trace' ? 'traces' : name);
      if (active) link.setAttribute('aria-current', 'page');
      else link.removeAttribute('aria-current');
    }
    view.dataset.state = 'loading';
    view.dataset.page = name;
    view.setAttribute('aria-busy', 'true');

    let content;
    let state = 'ready';
    try {
      content = await page();
    } catch (error) {
      state = 'error';
      const message = error instanceof ApiError ? error.message : 'Something went wrong: ' + (error && error.message ? error.message : String(error));
      content = h('section', { class: 'page' },
        h('div', { class: 'error-banner', role: 'alert', 'data-testid': 'error' }, message),
        h('button', { type: 'button', onclick: () => render() }, 'Try again'));
    }
    if (current !== generation) return; // a newer navigation won
    view.replaceChildren(content);
    view.removeAttribute('aria-busy');
    document.title = (name === 'not-found' ? 'Not found' : {
      traces: 'Traces', trace: 'Trace', llm: 'LLM cost', services: 'Services',
    }[name]) + ' · spanforge';
    view.dataset.hash = location.hash;
    view.dataset.state = state;
  }

  function refresh() {
    metaCache = null;
    render();
  }

  window.addEventListener('hashchange', render);
  document.getElementById('refresh').addEventListener('click', refresh);
  document.addEventListener('keydown', (event) => {
    if (event.key !== 'r' || event.ctrlKey || event.metaKey || event.altKey) return;
    const target = event.target;
    if (target && (target.isContentEditable || ['INPUT', 'SELECT', 'TEXTAREA'].includes(target.tagName))) return;
    refresh();
  });

  if (!location.hash || location.hash === '#' || location.hash === '#/') {
    history.replaceState(null, '', '#/traces');
  }
  render();
})();
