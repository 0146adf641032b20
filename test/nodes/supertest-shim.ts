/** Type of the supertest agent helper.request() returns (supertest ships with the helper, untyped here). */
export interface Response {
  status: number;
  body: unknown;
  text: string;
}
export interface Test extends PromiseLike<Response> {
  send(body: unknown): Test;
  set(name: string, value: string): Test;
  query(q: Record<string, string>): Test;
  expect(status: number): Test;
}
export interface Agent {
  get(path: string): Test;
  post(path: string): Test;
}
