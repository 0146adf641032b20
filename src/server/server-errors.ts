/** An error the local server answers with KairosDB's `{"errors": [...]}` body. */
export class ServerError extends Error {
  readonly status: number;
  readonly errors: string[];
  constructor(status: number, errors: string[] | string) {
    const list = Array.isArray(errors) ? errors : [errors];
    super(list.join('; '));
    this.status = status;
    this.errors = list;
  }
}

/** A 400 with KairosDB validation messages. */
export function badRequest(...messages: string[]): ServerError {
  return new ServerError(400, messages);
}
