/** `source` of every X-Force entity and the provider's name in error messages. */
export const DISPLAY_NAME = 'IBM X-Force Exchange';
