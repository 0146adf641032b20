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
  /** Node-RED's autocomplete widget. */
  autoComplete(options: { minLength?: number; search: (value: string, done?: (items: Array<{ value: string; label: string }>) => void) => unknown }): JQueryLike;
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
