/**
 * The query dialog: typed inputs, the aggregator list with a check per row, and carrying the aggregators
 * between the list and raw JSON when the mode changes.
 */
import { AGGREGATORS, UNITS, catalogueEntry, kairosToRows, rowProblem, rowsToKairos, type AggregatorRow } from './aggregators';
import type { Translate } from './labels';

const LIST = '#node-input-aggregator-list';

/** One aggregator row of the open dialog's list. */
export function readRow(row: JQueryLike): AggregatorRow {
  return {
    name: row.find('.proficloud-agg-name').val() ?? '',
    value: String(row.find('.proficloud-agg-value').val() || '').trim(),
    unit: row.find('.proficloud-agg-unit').val(),
    params: String(row.find('.proficloud-agg-params').val() || '').trim(),
  };
}

function listRows(): AggregatorRow[] {
  const rows: AggregatorRow[] = [];
  $(LIST)
    .editableList('items')
    .each(function () {
      rows.push(readRow($(this).find('.proficloud-agg-row')));
    });
  return rows;
}

/** Disables what the aggregator does not take and marks the field a problem is in, with the reason below. */
function checkRow(row: JQueryLike, t: Translate): void {
  const data = readRow(row);
  const entry = catalogueEntry(data.name);
  const sampled = !entry || !!entry.sampling;
  row.find('.proficloud-agg-value, .proficloud-agg-unit').prop('disabled', !sampled);
  if (!sampled) row.find('.proficloud-agg-value').val('');
  row.find('.proficloud-agg-params').attr('placeholder', (entry && entry.hint) || '{}');
  const problem = rowProblem(readRow(row), row.index(), t);
  const valueBad = !!problem && /sampling|value/i.test(problem) && data.value !== '';
  row.find('.proficloud-agg-value').toggleClass('input-error', valueBad);
  row.find('.proficloud-agg-params').toggleClass('input-error', !!problem && !valueBad);
  row.find('.proficloud-agg-problem').text(problem || '');
}

function addRow(container: JQueryLike, data: Partial<AggregatorRow>, t: Translate): void {
  const row = $('<div class="proficloud-agg-row"></div>').appendTo(container);
  const line = $('<div style="display: flex; gap: 4px; align-items: center;"></div>').appendTo(row);
  const name = $('<select class="proficloud-agg-name" style="width: 130px;"></select>').appendTo(line);
  for (const a of AGGREGATORS) $('<option>').val(a.name).text(a.name).appendTo(name);
  if (data.name && !catalogueEntry(data.name)) $('<option>').val(data.name).text(data.name).appendTo(name);
  name.val(data.name || 'avg');
  $('<input type="text" class="proficloud-agg-value" style="width: 60px;">')
    .attr('placeholder', '1')
    .val(data.value === undefined ? '' : String(data.value))
    .appendTo(line);
  const unit = $('<select class="proficloud-agg-unit" style="width: 110px;"></select>').appendTo(line);
  for (const u of UNITS) $('<option>').val(u).text(t(`proficloud-query.unit.${u}`)).appendTo(unit);
  unit.val(data.unit || 'minutes');
  $('<input type="text" class="proficloud-agg-params" style="flex: 1; min-width: 120px;">')
    .val(data.params || '')
    .appendTo(line);
  $('<div class="proficloud-agg-problem form-tips" style="color: var(--red-ui-text-color-error, #c33); border: none; padding: 2px 0 0; background: none;"></div>').appendTo(row);
  row.find('select, input').on('change input', () => checkRow(row, t));
  checkRow(row, t);
}

export function prepareQuery(node: { aggregators?: AggregatorRow[] }, t: Translate, suggest: TypedInputType['autoComplete']): void {
  // The plain string type, with metric-name suggestions from the deployed config node.
  const metricType: TypedInputType = { value: 'str', label: 'string', icon: 'red/images/typedInput/az.svg', autoComplete: suggest };
  $('#node-input-metrics').typedInput({ default: 'str', typeField: '#node-input-metricsType', types: [metricType, 'msg', 'flow', 'global', 'env', 'json'] });
  $('#node-input-start').typedInput({ default: 'str', typeField: '#node-input-startType', types: ['str', 'num', 'msg', 'flow', 'global', 'env'] });
  $('#node-input-end').typedInput({ default: 'str', typeField: '#node-input-endType', types: ['str', 'num', 'msg', 'flow', 'global', 'env'] });
  $('#node-input-aggJson').typedInput({ default: 'json', types: ['json'] });

  const list = $(LIST)
    .css('min-width', '480px')
    .editableList<AggregatorRow>({
      addButton: t('proficloud-query.label.addAggregator'),
      addItem: (container, _index, data) => addRow(container, data, t),
      removable: true,
      sortable: true,
      height: 150,
    });
  for (const a of node.aggregators || []) list.editableList('addItem', a);

  const json = $('#node-input-aggJson');
  let lastMode = $('#node-input-aggMode').val();
  const refresh = (): void => {
    const mode = $('#node-input-aggMode').val();
    // Carry the aggregators across when switching, so raw JSON starts from the list and back.
    if (mode !== lastMode) {
      if (mode === 'json' && !json.typedInput('value')) {
        json.typedInput('value', JSON.stringify(rowsToKairos(listRows())));
      } else if (mode === 'list' && list.editableList('length') === 0) {
        try {
          const parsed: unknown = JSON.parse(json.typedInput('value') || '[]');
          if (Array.isArray(parsed)) for (const r of kairosToRows(parsed)) list.editableList('addItem', r);
        } catch {
          // the JSON field shows its own error
        }
      }
      lastMode = mode;
    }
    $('.proficloud-row-agglist').toggle(mode !== 'json');
    $('.proficloud-row-aggjson').toggle(mode === 'json');
    $('.proficloud-row-pointFormat').toggle($('#node-input-output').val() === 'series');
    $('.proficloud-row-paging').toggle($('#node-input-paged').is(':checked'));
  };
  $('#node-input-aggMode, #node-input-output, #node-input-paged').on('change', refresh);
  refresh();
}

/** Keeps the rows that have a name. */
export function saveQuery(node: { aggregators?: AggregatorRow[] }): void {
  node.aggregators = listRows().filter((row) => row.name);
}

/** Gives the aggregator list the height the other rows leave. */
export function resizeQuery(size: { height: number }): void {
  let height = size.height;
  $('#dialog-form>div:not(.node-input-aggregator-list-row):visible').each(function () {
    height -= $(this).outerHeight(true) ?? 0;
  });
  const listRow = $('#dialog-form>div.node-input-aggregator-list-row');
  height -= parseInt(listRow.css('marginTop'), 10) + parseInt(listRow.css('marginBottom'), 10);
  $(LIST).editableList('height', Math.max(120, height));
}
