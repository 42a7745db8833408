// The NHS.UK frontend's components (error summary focus, skip link, header menu), as its docs ask.
import { initAll } from './nhsuk-frontend.min.js';

initAll();
