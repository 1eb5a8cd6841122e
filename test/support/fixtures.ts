/** A plan's limits for tests: three servers, and room for everything else. */
export const planLimits = {
  servers: 3,
  sites: 10,
  databases: 5,
  mailboxes: 20,
  dnsZones: 5,
  backupRetentionDays: 14,
  backupStorageBytes: 10_737_418_240,
};
