/** Names of ticket files in a fair line: `<arrival>-<stem of the ticket id>`, sorting by arrival. */
import { isStem } from './names.js';

/** Width of an arrival stamp: integer microseconds since the epoch, zero-padded. */
const WIDTH = 17;
const TICKET = new RegExp(`^\\d{${WIDTH}}-(.+)$`);
let lastArrival = 0;
/**
 * Now, as a name prefix that sorts by arrival across the processes of one machine (wall-clock
 * microseconds), strictly increasing within this process.
 */
export const arrival = (): string => {
  lastArrival = Math.max(Math.floor((performance.timeOrigin + performance.now()) * 1000), lastArrival + 1);
  return String(lastArrival).padStart(WIDTH, '0');
};

/** True for the names of ticket files (`<arrival>-<stem of the ticket id>`); other files are ignored. */
export const isTicketName = (name: string): boolean => {
  const match = TICKET.exec(name);
  return match !== null && isStem(match[1]!);
};
