// The name C1fApp's entities carry as `source` and its errors carry in their messages.
export const DISPLAY_NAME = 'C1fApp';
