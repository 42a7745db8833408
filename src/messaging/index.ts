import type { Clock } from '../clock.js';
import type { WritePolicy } from '../pathway/write-policies.js';
import type { Database } from '../store/database.js';
import { MessageCatalogue } from './catalogue.js';
import { sharedBarsValidator } from './conformance.js';
import { MessageProcessor } from './processor.js';
import { loadServices, type HostedService } from '../config/bars-services.js';

export { MessageCatalogue } from './catalogue.js';
export { MessageProcessor, DEFAULT_EVENTS, STEPWISE_EVENTS, type ProcessInput, type ProcessResult } from './processor.js';
export { searchMessageDefinitions } from './definitions-search.js';

/** The messaging component over one database: hosted services from the environment unless given. */
export function createMessaging(db: Database, clock: Clock, services: HostedService[] = loadServices(), policies?: readonly WritePolicy[]): MessageProcessor {
  return new MessageProcessor({ db, clock, catalogue: new MessageCatalogue(services), validator: sharedBarsValidator, policies });
}
