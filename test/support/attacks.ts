/** One attack of each of the simulator's 12 original kinds in a 20-min capture (simulate-capture and simulate-pinned tests). */
export const ALL_12_KINDS: readonly string[] = [
  'port_scan@+300s/60s:nursepc-01',
  'slow_scan@+300s/600s:pump-02',
  'syn_flood@+400s/10s:nursepc-02',
  'udp_flood@+450s/10s:telemetry-01',
  'exfiltration@+500s/30s:imaging-01',
  'c2_beacon@+540s/300s:pump-01',
  'dns_tunnel@+600s/60s:lab-01',
  'arp_spoof@+700s/60s:nursepc-03',
  'brute_force_telnet@+780s/60s:lab-02',
  'brute_force_ssh@+860s/60s:bms-ctl-01',
  'lateral_movement@+940s/60s:monitor-02',
  'new_peer@+1010s/120s:monitor-03',
];
