/** Types of bench/gen.mjs (plain JS so scripts/bench.mjs can use it without tsx). */
export declare function valueAt(m: number, j: number): number;
export declare function timestampAt(m: number, j: number): number;
export declare function queryResponse(metrics: number, points: number): Buffer;
export declare function expectedTable(metrics: number, points: number): { allRows: number; keptRows: number; sums: number[]; ffillSums: number[] };
export declare function pushRows(rows: number, columns: number): Array<Record<string, number>>;
export declare const START_MS: number;
