// The name OTX's entities carry as `source` and its errors carry in their messages.
export const DISPLAY_NAME = 'AlienVault OTX';
