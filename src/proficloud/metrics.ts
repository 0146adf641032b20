/**
 * Presets for the legacy Proficloud KairosDB services (the seed's ProficloudMetrics): TSD on
 * proficloud.net (read-only) and EWIMA "client metrics" (read and write). Both authenticate with a
 * Basic login token, base64("<id>:<password>").
 */
import { KairosConnector, type KairosConnectorOptions } from '../kairos/connector';
import { ValidationError } from '../errors';
import { decodeToken } from './token';

export type ProficloudEnvironment = 'production' | 'staging';

export const PROFICLOUD_URLS = Object.freeze({
  tsd: Object.freeze({
    production: 'https://tsd.proficloud.net/ds/v1/kairos/',
    staging: 'https://tsd.proficloud-staging.net/ds/v1/kairos/',
  }),
  ewima: Object.freeze({
    production: 'https://emalytics.proficloud.net/ds/v1/kairos/',
    staging: 'https://ewima.proficloud-staging.net/ds/v1/kairos/',
  }),
});

export const TSD_READ_ONLY_MESSAGE = 'TSD does not accept writes';
/** The hosted services answer 504 when a query exceeds their quota; start with one-day windows. */
export const PROFICLOUD_QUERY_WINDOW_MS = 24 * 60 * 60 * 1000;
/** The seed queries with a trailing slash on these services. */
export const PROFICLOUD_QUERY_PATH = '/api/v1/datapoints/query/';
export const EWIMA_WRITE_PATH = '/api/v1/datapoints/write';

export interface ProficloudConnectorOptions
  extends Omit<KairosConnectorOptions, 'baseUrl' | 'token' | 'bearer' | 'basicAuth' | 'readOnly' | 'writePath' | 'pushTags'> {
  /** The login token, base64("<id>:<password>"); a leading "Basic " is accepted. */
  token: string;
  /** Default 'production'. */
  environment?: ProficloudEnvironment;
  /** Overrides the environment's URL (e.g. a test server). */
  baseUrl?: string;
}

/** TSD on proficloud.net: read-only; every write fails with "TSD does not accept writes" before any request. */
export function createTsdConnector(opts: ProficloudConnectorOptions): KairosConnector {
  const { environment, baseUrl, ...rest } = checkOpts(opts);
  decodeToken(opts.token);
  return new KairosConnector({
    queryPath: PROFICLOUD_QUERY_PATH,
    queryWindowMs: PROFICLOUD_QUERY_WINDOW_MS,
    ...rest,
    baseUrl: baseUrl ?? PROFICLOUD_URLS.tsd[environment ?? 'production'],
    readOnly: TSD_READ_ONLY_MESSAGE,
  });
}

/** EWIMA client metrics: writes go to /api/v1/datapoints/write and every metric carries tag uuid=<uuid from the token>. */
export function createEwimaConnector(opts: ProficloudConnectorOptions): KairosConnector {
  const { environment, baseUrl, ...rest } = checkOpts(opts);
  const { id: uuid } = decodeToken(opts.token);
  return new KairosConnector({
    queryPath: PROFICLOUD_QUERY_PATH,
    queryWindowMs: PROFICLOUD_QUERY_WINDOW_MS,
    ...rest,
    baseUrl: baseUrl ?? PROFICLOUD_URLS.ewima[environment ?? 'production'],
    writePath: EWIMA_WRITE_PATH,
    pushTags: { uuid },
    // Metrics written without tags still get a valid tag set: the uuid.
    defaultTags: { uuid, ...(rest.defaultTags ?? {}) },
  });
}

function checkOpts(opts: ProficloudConnectorOptions): ProficloudConnectorOptions {
  if (!opts || typeof opts !== 'object') throw new ValidationError('options', opts, 'must be an object with at least a token');
  if (opts.environment !== undefined && opts.environment !== 'production' && opts.environment !== 'staging') {
    throw new ValidationError('environment', opts.environment, "must be 'production' or 'staging'");
  }
  return opts;
}

/**
 * The seed's `ProficloudMetrics`: the Python package had one class per service module (`tsd`, `ewima`);
 * here both are KairosConnector presets, so the name maps each module to its factory.
 */
export const ProficloudMetrics = Object.freeze({
  tsd: createTsdConnector,
  ewima: createEwimaConnector,
});
