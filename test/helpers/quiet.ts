import { quietKnownWarnings } from '../../src/process-setup.js';

quietKnownWarnings();
