/**
 * The small part of the Node-RED editor API (RED and its jQuery) that the shared editor code uses. Only
 * what is called is declared, so a typo or a wrong argument is a compile error rather than a silent no-op.
 */

interface JQueryXhr {
  done(fn: (data: unknown) => void): JQueryXhr;
  fail(fn: (xhr: { status: number; statusText?: string; responseJSON?: { error?: string; message?: string } }) => void): JQueryXhr;
  always(fn: () => void): JQueryXhr;
}

interface JQueryLike {
  length: number;
  val(): string | undefined;
  val(value: string): JQueryLike;
  is(selector: string): boolean;
  on(events: string, handler: (this: HTMLElement) => void): JQueryLike;
  toggle(show?: boolean): JQueryLike;
  text(): string;
  text(value: string): JQueryLike;
  prop(name: string, value: boolean): JQueryLike;
  addClass(names: string): JQueryLike;
  removeClass(names: string): JQueryLike;
  empty(): JQueryLike;
  append(...content: Array<JQueryLike | string>): JQueryLike;
  appendTo(target: JQueryLike): JQueryLike;
  find(selector: string): JQueryLike;
  each(fn: (this: HTMLElement, index: number) => void): JQueryLike;
  attr(name: string, value: string): JQueryLike;
  css(name: string): string;
  css(name: string, value: string): JQueryLike;
  toggleClass(name: string, state: boolean): JQueryLike;
  index(): number;
  outerHeight(includeMargin: boolean): number | undefined;
  /** Node-RED's TypedInput widget: create, or read / set its value. */
  typedInput(options: { default: string; typeField?: string; types: Array<string | TypedInputType> }): JQueryLike;
  typedInput(method: 'value'): string;
  typedInput(method: 'value', value: string): JQueryLike;
  /** Node-RED's editableList widget: create, or call one of its methods. */
  editableList<T>(options: EditableListOptions<T>): JQueryLike;
  editableList<T>(method: 'addItem', data: T): JQueryLike;
  editableList(method: 'items'): JQueryLike;
  editableList(method: 'length'): number;
  editableList(method: 'height', height: number): JQueryLike;
  /** Node-RED's autocomplete widget. */
  autoComplete(options: { minLength?: number; search: (value: string, done?: (items: Array<{ value: string; label: string }>) => void) => unknown }): JQueryLike;
}

interface TypedInputType {
  value: string;
  label: string;
  icon: string;
  autoComplete: (value: string, done?: (items: Array<{ value: string; label: string }>) => void) => unknown;
}

interface EditableListOptions<T> {
  addButton: string;
  /** data is {} for a row added with the button. */
  addItem: (container: JQueryLike, index: number, data: Partial<T>) => void;
  removable: boolean;
  sortable: boolean;
  height: number;
}

interface JQueryStaticLike {
  (selector: string | HTMLElement | JQueryLike): JQueryLike;
  getJSON(url: string, data: Record<string, string>): JQueryXhr;
  ajax(options: { url: string; type: string; contentType: string; data: string }): JQueryXhr;
}

/** A node type's definition as the editor keeps it; `_` looks keys up in the type's own catalogue. */
interface RedNodeType {
  _?: (key: string, subs?: Record<string, unknown>) => string;
}

interface RedEditor {
  _(key: string, subs?: Record<string, unknown>): string;
  nodes: {
    getType(type: string): RedNodeType | undefined;
    node(id: string): { changed?: boolean } | null;
  };
  /** Set by editor.js: the shared helpers every proficloud dialog uses. */
  proficloud?: import('./main').ProficloudEditor;
}

declare const RED: RedEditor;
declare const $: JQueryStaticLike;
