/**
 * The analysis pipeline: decoded packets → device identity → flow table → inventory learning → feature windows.
 * The one place where the flows and features stages are wired together (the CLI and the benchmark use it).
 *
 * Order per packet matters and is fixed here:
 *  1. `features.advance(p)`: close the window if this packet is past its end, BEFORE the flow table expires flows
 *     at this packet's time (their ends then count in the window of the packet that revealed them);
 *  2. `inventory.resolve(p)`: device handles of both sides (creates the sender's device);
 *  3. `flows.process(p, devices)`: the flow update (and any ended flows → `features.flowEnded`, flow records);
 *  4. `inventory.learn(p, devices, update)`: IPs, peers, listening ports, protocols;
 *  5. `features.process(p, update, devices)`.
 * `flush()` at capture end ends all flows (`capture_end`) then emits the open window. `saveInventory(path)` saves the
 * inventory with the feature stage's per-device history of peers and ports.
 *
 * Capture loss (a live source): the frame loop calls `noteCaptureLoss(dropped, received)` with the source's cumulative
 * counters about once a second (and once more before `flush()`); windows emitted from then on carry `capture_loss`,
 * the share of packets the capture dropped while they were open (src/records/features.ts).
 */
import type { DecodedPacket } from '../records/packet.js';
import type { FeatureWindow } from '../records/features.js';
import type { FlowRecord } from '../records/flow.js';
import { detectorFacts, type InventoryEntry } from '../records/device.js';
import type { DeviceIdentityOptions, FlowTableOptions } from '../flows/config.js';
import { FlowTable } from '../flows/flow-table.js';
import { DeviceInventory, type DeviceIdentitySnapshot } from '../flows/device-inventory.js';
import type { InventoryFileEntry } from '../flows/inventory-file.js';
import type { FeatureOptions } from '../features/config.js';
import { FeatureExtractor } from '../features/feature-extractor.js';

export interface AnalysisPipelineOptions {
  flows?: Partial<FlowTableOptions>;
  devices?: Partial<DeviceIdentityOptions>;
  features?: Partial<FeatureOptions>;
  /** Operator inventory file entries (see `readInventoryFile`). */
  inventoryFile?: readonly InventoryFileEntry[];
  /** A restored inventory (`DeviceInventory.load`) to continue from; its options win over `devices`. */
  inventory?: DeviceInventory;
}

export interface AnalysisSinks {
  onWindow?: (w: FeatureWindow) => void;
  /** Full flow records (e.g. `FlowJsonlWriter.write`). Records are only built when this is set. */
  onFlow?: (r: FlowRecord) => void;
}

export class AnalysisPipeline {
  readonly inventory: DeviceInventory;
  readonly flows: FlowTable;
  readonly features: FeatureExtractor;
  private packets = 0;
  /** Packet time of the last packet (seconds; NaN before the first). */
  private lastTs = NaN;
  /** Cumulative capture counters at the last `noteCaptureLoss`. */
  private lossAt = { dropped: 0, received: 0 };
  /** `changedEntry`: device handles by id (stable for the inventory's life) and the detector facts last given. */
  private readonly handles = new Map<string, number>();
  private readonly factsGiven = new Map<string, string>();
  private readonly snapshotGiven = new Map<number, object>();

  constructor(options: AnalysisPipelineOptions = {}, sinks: AnalysisSinks = {}) {
    this.inventory = options.inventory ?? new DeviceInventory(options.devices, options.inventoryFile);
    const onWindow = sinks.onWindow ?? ((): void => {});
    this.features = new FeatureExtractor(options.features ?? {}, this.inventory, onWindow);
    // A restored inventory carries the feature stage's per-device history (peers and ports already seen).
    for (const [h, history] of this.inventory.takeSavedFeatureHistory()) this.features.restoreHistory(h, history);
    const features = this.features;
    this.flows = new FlowTable(options.flows ?? {}, {
      onEnd: (e) => features.flowEnded(e),
      ...(sinks.onFlow !== undefined ? { onRecord: sinks.onFlow } : {}),
      devices: this.inventory,
    });
  }

  process(p: DecodedPacket): void {
    this.packets++;
    this.lastTs = p.ts_sec + p.ts_nsec * 1e-9;
    this.features.advance(p);
    const devices = this.inventory.resolve(p);
    const update = this.flows.process(p, devices);
    this.inventory.learn(p, devices, update);
    this.features.process(p, update, devices);
  }

  /**
   * Notes the capture's counters, cumulative since the capture started: `cumulativeDropped` packets the capture lost
   * (live: `pcap_dropped + pcap_ifdropped`), `cumulativeReceived` packets it handed to the sensor (`received`). The
   * difference since the previous call is counted in the window open now; every window emitted after the first call
   * carries `capture_loss`. Counters that went down (a new capture) count from zero again. Call it from the frame loop
   * (between packets), about once a second, and once more before `flush()`.
   */
  noteCaptureLoss(cumulativeDropped: number, cumulativeReceived: number): void {
    const last = this.lossAt;
    const dropped = cumulativeDropped >= last.dropped ? cumulativeDropped - last.dropped : cumulativeDropped;
    const received = cumulativeReceived >= last.received ? cumulativeReceived - last.received : cumulativeReceived;
    last.dropped = cumulativeDropped;
    last.received = cumulativeReceived;
    this.features.noteCaptureLoss(dropped, dropped + received);
  }

  /**
   * A live capture on a quiet wire: closes what a packet stamped `ms` (milliseconds since the epoch) would close —
   * the feature window whose end has passed, then the flows idle past their timeouts, in the order `process` uses
   * (the window first, so the flows ending now count in the next one). Nothing before the first packet, or when `ms`
   * is not past the last packet's time. The live frame loops call it when a second passed without a frame, with the
   * wall clock minus a grace for frames still on their way from the kernel.
   */
  closeIdle(ms: number): void {
    if (!(ms / 1000 > this.lastTs)) return; // also false while lastTs is NaN (no packet yet)
    this.features.advanceTo(ms);
    this.flows.expire(ms / 1000);
  }

  flush(): void {
    this.flows.flush();
    this.features.flush();
  }

  /**
   * Saves the device inventory with each device's feature history (`DeviceInventory.save`); restore with
   * `DeviceInventory.load` and pass it as `options.inventory`: peers and ports seen before the restart are not new.
   */
  saveInventory(path: string): void {
    this.inventory.save(path, this.features.histories());
  }

  /**
   * The inventory entry of a device when a field a detector uses changed since the last call for it (`detectorFacts`:
   * class, criticality, names, first seen, learning), else undefined (also for an unknown or unconfirmed device). The
   * sensor calls it as each window is emitted and publishes what it returns before the window.
   */
  changedEntry(deviceId: string): InventoryEntry | undefined {
    const h = this.handleOf(deviceId);
    if (h < 0) return undefined;
    // The identity snapshot is the same object while nothing it is made of changed (DeviceInventory.identity), and
    // it is made of everything the facts are: an unchanged snapshot spares building the entry.
    const snapshot = this.inventory.identity(h);
    if (snapshot === undefined || !snapshot.confirmed || this.snapshotGiven.get(h) === snapshot) return undefined;
    this.snapshotGiven.set(h, snapshot);
    const e = this.inventory.entry(h);
    if (e === undefined) return undefined;
    const facts = detectorFacts(e);
    if (this.factsGiven.get(deviceId) === facts) return undefined;
    this.factsGiven.set(deviceId, facts);
    return e;
  }

  /**
   * What the detector needs of a device now (`DeviceInventory.identity`: class, criticality, name, vendor, first
   * seen), by device id; undefined for a device the inventory does not know.
   */
  identityOf(deviceId: string): DeviceIdentitySnapshot | undefined {
    const h = this.handleOf(deviceId);
    return h < 0 ? undefined : this.inventory.identity(h);
  }

  /** A device's inventory handle by id (-1: unknown); cached, handles are stable for the inventory's life. */
  private handleOf(deviceId: string): number {
    let h = this.handles.get(deviceId);
    if (h === undefined) {
      h = this.inventory.handleOf(deviceId);
      if (h < 0) return -1;
      this.handles.set(deviceId, h);
    }
    return h;
  }

  /** Sensor metrics of the stages (counters by stage, for the health points and /metrics). */
  metrics(): Record<string, number> {
    return {
      packets: this.packets,
      ...prefix('flows', this.flows.counters().snapshot()),
      flows_active: this.flows.size,
      ...prefix('devices', this.inventory.counters().snapshot()),
      features_windows_emitted: this.features.emitted,
    };
  }
}

function prefix(stage: string, values: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(values)) out[k.startsWith(`${stage}_`) ? k : `${stage}_${k}`] = v;
  return out;
}
