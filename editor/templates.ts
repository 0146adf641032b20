/**
 * Form rows shared by several dialogs, as template text. The keys are left to Node-RED's data-i18n handling,
 * which prefixes each dialog's own namespace, so every node keeps its own wording in its catalogue.
 */

/** The placeholder a node's template holds where the store-and-forward rows go. */
export const OUTBOX_PLACEHOLDER = '<div data-proficloud-rows="outbox"></div>';

const TYPE = /^proficloud-[a-z]+$/;

function checkboxRow(id: string, key: string): string {
  return [
    '<div class="form-row">',
    `    <label for="node-input-${id}">&nbsp;</label>`,
    `    <input type="checkbox" id="node-input-${id}" style="display: inline-block; width: auto; vertical-align: top;">`,
    `    <label for="node-input-${id}" style="width: auto;" data-i18n="${key}"></label>`,
    '</div>',
  ].join('\n');
}

/**
 * The writing nodes' rows (write, batch): outbox on/off, its size, what to drop when full, and the optional
 * report output. `type` names the catalogue the labels come from (`<type>.label.outbox` and so on).
 */
export function outboxRows(type: string): string {
  if (!TYPE.test(type)) throw new Error(`outboxRows: "${type}" is not a proficloud node type`);
  return [
    checkboxRow('outbox', `${type}.label.outbox`),
    '<div class="form-row">',
    `    <label for="node-input-outboxMaxMB"><i class="fa fa-hdd-o"></i> <span data-i18n="${type}.label.outboxMaxMB"></span></label>`,
    '    <input type="text" id="node-input-outboxMaxMB" style="width: 80px;" placeholder="100"> MB',
    '</div>',
    '<div class="form-row proficloud-row-outbox">',
    `    <label for="node-input-overflow"><i class="fa fa-trash"></i> <span data-i18n="${type}.label.overflow"></span></label>`,
    '    <select id="node-input-overflow" style="width: 70%;">',
    `        <option value="drop-oldest" data-i18n="${type}.overflow.oldest"></option>`,
    `        <option value="drop-newest" data-i18n="${type}.overflow.newest"></option>`,
    '    </select>',
    '</div>',
    checkboxRow('report', `${type}.label.reportOutput`),
  ].join('\n');
}

/** A template text with the outbox placeholder replaced by the rows; unchanged if it has none (already filled). */
export function withOutboxRows(template: string, type: string): string {
  return template.includes(OUTBOX_PLACEHOLDER) ? template.replace(OUTBOX_PLACEHOLDER, outboxRows(type)) : template;
}
