// Where the Temporal Web UI is, for the builder's "Open in Temporal" links (GET /api/health) and the
// payload codec's CORS origin: TEMPORAL_UI_URL when set; else the UI of the dev server this process
// started (on TEMPORAL_UI_PORT); else, for a Temporal cluster named by TEMPORAL_ADDRESS, its host on
// TEMPORAL_UI_PORT when that is set. Otherwise unknown, and the builder shows no guessed link.
import type { Env } from './env.js';

export function temporalUiUrl(
  env: Pick<Env, 'TEMPORAL_UI_URL' | 'TEMPORAL_UI_PORT' | 'TEMPORAL_ADDRESS'>,
  /** The UI of the dev server started here, if any. */
  startedUi: string | undefined,
): string | undefined {
  if (env.TEMPORAL_UI_URL) return env.TEMPORAL_UI_URL.replace(/\/+$/, '');
  if (startedUi) return startedUi;
  if (env.TEMPORAL_ADDRESS && env.TEMPORAL_UI_PORT) {
    const host = env.TEMPORAL_ADDRESS.replace(/^[a-z]+:\/\//i, '').replace(/:\d+$/, '');
    return `http://${host}:${env.TEMPORAL_UI_PORT}`;
  }
  return undefined;
}
