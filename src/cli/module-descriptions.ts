// Texts of the module types registered in Threat Response/XDR, per provider id. A provider
// without an entry gets a plain description built from its display name.
export interface ModuleDescription {
  shortDescription: string;
  description: string;
  references?: { label: string; link: string }[];
}

export const MODULE_DESCRIPTIONS: Record<string, ModuleDescription> = {
  xforce: {
    shortDescription: 'IBM X-Force Exchange: reputation, categories, DNS and collections for IPs, domains, URLs and file hashes.',
    description:
      'Queries IBM X-Force Exchange through ctr-relay. Returns verdicts and judgements from the X-Force risk score, sightings and indicators per category, passive and active DNS records, and the public collections an observable belongs to, with links to the X-Force Exchange pages.',
    references: [{ label: 'IBM X-Force Exchange', link: 'https://exchange.xforce.ibmcloud.com/' }],
  },
  pulsedive: {
    shortDescription: 'Pulsedive: community-scored risk, threats, feeds and active DNS for IPs, domains and URLs.',
    description:
      'Queries Pulsedive through ctr-relay. Returns verdicts and judgements from the Pulsedive risk, sightings and indicators for its risk factors, threats and feeds, active DNS relations, and links to search and browse Pulsedive.',
    references: [{ label: 'Pulsedive', link: 'https://pulsedive.com/' }],
  },
  'cybercrime-tracker': {
    shortDescription: 'CyberCrime Tracker: whether an IP, domain or URL is a listed botnet command-and-control server.',
    description:
      'Queries CyberCrime Tracker through ctr-relay. A listed command-and-control address gives a malicious verdict and a judgement naming the malware family, with a link to the CyberCrime Tracker search. Needs no credentials.',
    references: [{ label: 'CyberCrime Tracker', link: 'http://cybercrime-tracker.net/' }],
  },
  otx: {
    shortDescription: 'AlienVault OTX: the community pulses that mention an IP, domain, URL or file hash.',
    description:
      'Queries AlienVault Open Threat Exchange through ctr-relay. Each pulse that holds the observable becomes an indicator and a sighting, newest first, with links to the OTX indicator pages (emails included).',
    references: [{ label: 'AlienVault OTX', link: 'https://otx.alienvault.com/' }],
  },
  c1fapp: {
    shortDescription: 'C1fApp: threat-feed records for IPs, domains and URLs, with their resolutions.',
    description:
      'Queries the C1fApp threat-intelligence feed aggregator through ctr-relay. Each feed record becomes a sighting with its DNS and URL relations, and each feed an indicator.',
  },
};
