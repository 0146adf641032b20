/** Types of bench/map-baseline.mjs. */
export declare function mapRows(bytes: Buffer, opts?: { fillNaMethod?: string | null; dropTrailingNa?: boolean }): Array<Record<string, unknown>>;
