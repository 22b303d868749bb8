import type { StreamStatus } from '../status.ts';
import { html, type Markup } from '../../../lib/html.ts';

/** The script that fills the control panel (player/control.js). */
export const CONTROL_SCRIPT = '/assets/control.js';

/**
 * The camera control panel of a player page: empty and hidden; control.js shows it once the camera answers that it
 * has a control backend (GET /api/control/CAM), so pages need not know the config.
 */
export function controlPanel(stream: StreamStatus): Markup {
  return html`<section class="control" id="control" hidden data-camera="${stream.camera}" aria-label="camera control"></section>`;
}
