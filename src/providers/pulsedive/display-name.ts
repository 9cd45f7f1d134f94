/** `source` of every Pulsedive entity, and the name in error messages. */
export const DISPLAY_NAME = 'Pulsedive';
