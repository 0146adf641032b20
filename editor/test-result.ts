/** What Test connection shows for an answer of the test-connection endpoint, DOM-free. */
import type { Translate } from './labels';

export interface TestReply {
  ok?: boolean;
  version?: string;
  health?: { status?: string[] };
  code?: string;
  error?: string;
  warnings?: string[];
}

/** The text Test connection shows for an answer of the endpoint. */
export function testResultText(r: TestReply | null | undefined, t: Translate): string {
  if (r && r.ok) {
    let text = t('proficloud-config.test.ok');
    text += r.version ? ` ${r.version}` : ` ${t('proficloud-config.test.noVersion')}`;
    if (r.health && r.health.status && r.health.status.length) text += ` (${r.health.status.join(', ')})`;
    return text;
  }
  return `${t('proficloud-config.test.failed')} ${r && r.code ? `${r.code}: ` : ''}${(r && r.error) || ''}`;
}
