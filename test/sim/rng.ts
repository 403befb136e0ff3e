export { Rng } from '../helpers/rng.js';
