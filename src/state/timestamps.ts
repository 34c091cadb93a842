/** The time a state row records: ISO 8601 text, which both engines store and compare as written. */
export const now = () => new Date().toISOString();
