import { databaseFactories } from '../support/databases.js';
import { resourceStoreContract } from './resource-store.contract.js';

for (const [name, open] of databaseFactories) resourceStoreContract(name, open);
