/**
 * Entry of resources/editor.js: the helpers the package's five dialogs share, attached to the editor as
 * RED.proficloud. Every node's HTML loads this file itself (Node-RED serves the package's resources/ folder
 * and runs such scripts before the node's own), so no dialog depends on another node set being loaded first.
 * Loading it again keeps the first copy: the five dialogs each load it.
 */
import * as checks from './checks';
import { AGGREGATORS, UNITS, aggJsonProblem, catalogueEntry, kairosToRows, rowProblem, rowsProblem, rowsToKairos, type AggregatorRow } from './aggregators';
import { batchLabel, configLabel, every, labelStyle, namesLabel, queryLabel, streamLabel, writeLabel, type LabelNode, type Translate } from './labels';
import { metricQuery, suggestions, type Suggestion } from './suggest';
import { outboxRows, withOutboxRows } from './templates';
import { prepareQuery, readRow, resizeQuery, saveQuery } from './query-dialog';
import { testResultText, type TestReply } from './test-result';

/** t(key, subs) in one node type's catalogue: plain RED._ would look in the editor's own namespace. */
function translator(type: string): Translate {
  return (key, subs) => {
    const def = RED.nodes.getType(type);
    return def && def._ ? def._(key, subs) : RED._(key, subs);
  };
}

/** A checkbox's state while its dialog is open, the saved property otherwise (validators run in both). */
function checkedOr(selector: string, saved: unknown): boolean {
  return $(selector).length ? $(selector).is(':checked') : !!saved;
}

/** Shows rows only while a checkbox is ticked, now and on every change. */
function showWhenChecked(checkbox: string, rows: string): void {
  const refresh = (): void => {
    $(rows).toggle($(checkbox).is(':checked'));
  };
  $(checkbox).on('change', refresh);
  refresh();
}

/**
 * Autocomplete source (value, done) for a comma-separated metric list: suggests names for the part after the
 * last comma from the selected config node's server (admin endpoint, read permission).
 */
function suggestMetricNames(value: string, done?: (items: Suggestion[]) => void): void {
  const reply = done ?? (() => undefined);
  const server = $('#node-input-server').val();
  const cfg = server && server !== '_ADD_' ? RED.nodes.node(server) : null;
  // An undeployed config node has no connection yet: asking would only produce a 404.
  if (!server || !cfg || cfg.changed) {
    reply([]);
    return;
  }
  const { prefix, chosen } = metricQuery(value);
  $.getJSON('proficloud-ts/metricnames', { config: server, prefix })
    .done((names) => reply(suggestions(chosen, names)))
    .fail(() => reply([]));
}

/**
 * Puts the store-and-forward rows into a writing node's template, where its placeholder is. Runs when the
 * node's HTML is loaded (its template is in the page then), before any dialog reads the template.
 */
function fillOutboxRows(type: string): void {
  const template = $(`script[data-template-name="${type}"]`);
  if (!template.length) {
    console.error(`${type}: no editor template to put the outbox rows in`);
    return;
  }
  template.text(withOutboxRows(template.text(), type));
}

const AUTH_BY_SERVICE: Record<string, string[]> = {
  kairosdb: ['none', 'token', 'tokenFile', 'account'],
  tsd: ['token', 'tokenFile', 'account'],
  ewima: ['token', 'tokenFile', 'account'],
  io: ['login'],
};

/** The config dialog: rows that depend on service, login and proxy; time-zone suggestions; Test connection. */
function prepareConfig(node: { id: string; authMode?: string }, t: Translate): void {
  const field = (name: string): JQueryLike => $(`#node-config-input-${name}`);
  const refresh = (): void => {
    const service = field('service').val() ?? '';
    const env = field('environment').val();
    $('.proficloud-row-environment').toggle(service !== 'kairosdb');
    $('.proficloud-row-urls').toggle(service === 'kairosdb' || env === 'custom');
    const allowed = AUTH_BY_SERVICE[service] ?? ['none'];
    const auth = field('authMode');
    auth.find('option').each(function () {
      $(this).toggle(allowed.indexOf((this as HTMLOptionElement).value) !== -1);
    });
    if (allowed.indexOf(auth.val() ?? '') === -1) auth.val(allowed[0]);
    const mode = auth.val();
    $('.proficloud-row-token').toggle(mode === 'token');
    $('.proficloud-row-tokenFile').toggle(mode === 'tokenFile');
    $('.proficloud-row-accountId').toggle(mode === 'account');
    $('.proficloud-row-username').toggle(mode === 'login');
    $('.proficloud-row-password').toggle(mode === 'account' || mode === 'login');
    $('.proficloud-row-readonly').toggle(service === 'tsd' || service === 'io');
    $('.proficloud-row-proxyUrl').toggle(field('proxyMode').val() === 'url');
    $('.proficloud-row-tlswarning').toggle(!field('tlsVerify').is(':checked'));
  };
  $('#node-config-input-service, #node-config-input-environment, #node-config-input-authMode, #node-config-input-proxyMode, #node-config-input-tlsVerify').on('change', refresh);
  field('authMode').val(node.authMode || 'none');
  refresh();

  // Not in the ES2019 library types; every browser Node-RED 4 supports has it, the fallback keeps UTC.
  const supported = (Intl as { supportedValuesOf?: (key: string) => string[] }).supportedValuesOf;
  const zones = (typeof supported === 'function' ? supported('timeZone') : []).concat(['UTC']);
  field('timeZone').autoComplete({
    search: (value) => {
      const q = String(value || '').toLowerCase();
      return zones.filter((z) => z.toLowerCase().indexOf(q) !== -1).slice(0, 20);
    },
  });

  $('#node-config-proficloud-test').on('click', function () {
    testConnection(node.id, $(this), t);
  });
}

/** The dialog's current settings, as the test-connection endpoint reads them (credentials only from the dialog). */
function dialogSettings(id: string): Record<string, unknown> {
  const field = (name: string): JQueryLike => $(`#node-config-input-${name}`);
  const tls = field('tls').val();
  return {
    id,
    service: field('service').val(),
    environment: field('environment').val(),
    urls: field('urls').val(),
    authMode: field('authMode').val(),
    defaultTags: field('defaultTags').val(),
    timeZone: field('timeZone').val(),
    timeout: field('timeout').val(),
    maxResponseMB: field('maxResponseMB').val(),
    gzip: field('gzip').is(':checked'),
    proxyMode: field('proxyMode').val(),
    proxyUrl: field('proxyUrl').val(),
    tlsVerify: field('tlsVerify').is(':checked'),
    tls: tls === '_ADD_' ? '' : tls,
    credentials: {
      token: field('token').val(),
      tokenFile: field('tokenFile').val(),
      accountId: field('accountId').val(),
      username: field('username').val(),
      password: field('password').val(),
    },
  };
}

function testConnection(id: string, button: JQueryLike, t: Translate): void {
  const out = $('#node-config-proficloud-test-result');
  button.prop('disabled', true);
  out.removeClass('proficloud-test-ok proficloud-test-fail').empty().append($('<i class="fa fa-spinner fa-spin"></i>'), ' ', $('<span>').text(t('proficloud-config.test.running')));
  const show = (ok: boolean, text: string, warnings?: string[]): void => {
    out
      .empty()
      .addClass(ok ? 'proficloud-test-ok' : 'proficloud-test-fail')
      .append($('<i class="fa">').addClass(ok ? 'fa-check' : 'fa-times'), ' ', $('<span class="proficloud-test-text">').text(text));
    for (const w of warnings ?? []) $('<div class="proficloud-warning">').text(w).appendTo(out);
  };
  $.ajax({ url: 'proficloud-ts/test-connection', type: 'POST', contentType: 'application/json', data: JSON.stringify(dialogSettings(id)) })
    .done((data) => {
      const r = data as TestReply | null;
      show(!!(r && r.ok), testResultText(r, t), r?.warnings);
    })
    .fail((xhr) => {
      const detail = (xhr.responseJSON && (xhr.responseJSON.error || xhr.responseJSON.message)) || xhr.statusText || '';
      show(false, `${t('proficloud-config.test.failed')} HTTP ${xhr.status}${detail ? `: ${detail}` : ''}`);
    })
    .always(() => {
      button.prop('disabled', false);
    });
}

function create() {
  return {
    translator,
    ...checks,
    namesLabel,
    every,
    labelStyle,
    labels: { config: configLabel, query: queryLabel, write: writeLabel, batch: batchLabel, stream: streamLabel },
    checkedOr,
    showWhenChecked,
    suggestMetricNames,
    query: {
      AGGREGATORS,
      UNITS,
      catalogueEntry,
      rowProblem,
      rowsProblem,
      aggJsonProblem,
      rowsToKairos,
      kairosToRows,
      readRow,
      prepare(node: { aggregators?: AggregatorRow[] }, t: Translate): void {
        prepareQuery(node, t, suggestMetricNames);
      },
      save: saveQuery,
      resize: resizeQuery,
    },
    config: { prepare: prepareConfig },
    /** Editor hooks of the writing nodes (write, batch): store-and-forward rows and the optional report output. */
    outbox: {
      rows: outboxRows,
      fill: fillOutboxRows,
      prepare(this: LabelNode): void {
        showWhenChecked('#node-input-outbox', '.proficloud-row-outbox');
      },
      save(this: { outputs?: number }): void {
        this.outputs = $('#node-input-report').is(':checked') ? 1 : 0;
      },
    },
  };
}

export type ProficloudEditor = ReturnType<typeof create>;

if (typeof RED !== 'undefined' && !RED.proficloud) RED.proficloud = create();
