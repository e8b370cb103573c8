/**
 * ISO-8601 durations as Knative's DeliverySpec uses them (`backoffDelay: PT0.2S`,
 * `timeout: PT30S`). Knative parses them with rickb777/date `period.Parse`; years and months
 * are approximated the same way (365.2425 and 30.436875 days).
 */
const PATTERN =
  /^P(?:(\d+(?:\.\d+)?)Y)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)W)?(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/;

const DAY = 86_400_000;
const UNIT_MS = [365.2425 * DAY, 30.436875 * DAY, 7 * DAY, DAY, 3_600_000, 60_000, 1_000];

/** Milliseconds in `text`; throws on anything that is not an ISO-8601 duration. */
export function parseIsoDuration(text: string): number {
  const m = PATTERN.exec(text.trim().toUpperCase());
  if (!m || text.trim().toUpperCase() === 'P' || /T$/.test(text.trim())) throw new Error(`not an ISO-8601 duration: "${text}"`);
  let ms = 0;
  for (let i = 0; i < UNIT_MS.length; i++) {
    const part = m[i + 1];
    if (part !== undefined) ms += Number(part) * UNIT_MS[i]!;
  }
  return Math.round(ms);
}
