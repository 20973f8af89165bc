import Foundation
import Support
import Store
import Backends

/// The store's jobs as the Jobs screen lists them, newest first, kept between polls. A poll asks SQLite whether
/// anything was committed since the last one (`StoreChangeWatch`, one query); only then does it read every job's id
/// and change time, and the whole rows of the jobs that changed or got events. A local job shown as running is looked
/// at again on every poll (one `kill(pid, 0)`): its worker can die without writing anything. With 100,000 jobs an
/// idle poll reads no row, where reading them all every two seconds kept a core busy.
final class StoreJobListing: @unchecked Sendable {
    private let lock = NSLock()
    private var watch: StoreChangeWatch?
    /// Each listed job's change time (ms).
    private var stamps: [Int64: Int64] = [:]
    private var summaries: [JobSummary] = []
    /// Index in `summaries` of each job id.
    private var position: [Int64: Int] = [:]
    /// Running local jobs with a worker pid: whether the worker lives is not in the store.
    private var watched: [Int64: (record: JobRecord, metrics: StoreJobSource.Metrics?)] = [:]
    private var lastEventID: Int64 = 0
    /// Whole job rows read by the last `jobs(in:)` (0 when nothing changed).
    private var rowsReadLast = 0
    var rowsRead: Int { lock.withLock { rowsReadLast } }

    func jobs(in store: Store) throws -> [JobSummary] {
        try lock.withLock {
            if watch == nil { watch = try store.changeWatch() }
            if try watch!.changed() {
                try refresh(store)
            } else {
                rowsReadLast = 0
            }
            recheckWorkers()
            return summaries
        }
    }

    /// Reads what changed since the last refresh (everything the first time) and rebuilds the list around it.
    private func refresh(_ store: Store) throws {
        let newestEvent = try store.maxEventID()
        let withEvents = newestEvent > lastEventID ? try store.jobIDsWithEvents(after: lastEventID, upTo: newestEvent) : []
        let firstLoad = lastEventID == 0 && stamps.isEmpty
        lastEventID = newestEvent
        let now = try store.jobStamps()
        var changed: [Int64] = []
        var seen = Set<Int64>(minimumCapacity: now.count)
        for (id, updatedAt) in now {
            seen.insert(id)
            if stamps[id] != updatedAt || withEvents.contains(id) {
                changed.append(id)
                // The stamp read before the row: a change in between is read again at the next poll, never missed.
                stamps[id] = updatedAt
            }
        }
        let removed = stamps.keys.contains { !seen.contains($0) }
        let records = try store.jobs(ids: changed)
        rowsReadLast = records.count
        var fresh: [Int64: JobSummary] = [:]
        for record in records {
            // The job row holds the latest progress of local workers; an OpenAI job's comes from its metrics events.
            let metrics = (record.loss == nil || record.step == nil) && (withEvents.contains(record.id) || !firstLoad)
                ? StoreJobSource.latestMetrics(try store.latestEvents(jobID: record.id, limit: 50)) : nil
            fresh[record.id] = StoreJobSource.summary(record, metrics: metrics)
            if record.status == .running || record.statusText == FineTuneJobTracker.cancelRequested,
               record.backend == "local", record.pid != nil {
                watched[record.id] = (record, metrics)
            } else {
                watched[record.id] = nil
            }
        }
        if removed {
            for id in stamps.keys where !seen.contains(id) {
                stamps[id] = nil
                watched[id] = nil
            }
        }
        let added = fresh.keys.filter { position[$0] == nil }.sorted(by: >)
        if removed || !added.isEmpty {
            // New jobs go on top (newest first); the rest keep their places.
            var list = added.compactMap { fresh[$0] }
            list.reserveCapacity(seen.count)
            for job in summaries {
                guard let id = StoreJobSource.jobID(job.id), seen.contains(id) else { continue }
                list.append(fresh[id] ?? job)
            }
            summaries = list
            position = Dictionary(uniqueKeysWithValues: list.enumerated().compactMap { i, job in
                StoreJobSource.jobID(job.id).map { ($0, i) }
            })
        } else {
            for (id, job) in fresh { if let i = position[id], summaries[i] != job { summaries[i] = job } }
        }
    }

    /// A running local job whose worker died shows as interrupted at the next poll, though nothing was written.
    private func recheckWorkers() {
        for (id, entry) in watched {
            guard let i = position[id] else { continue }
            let job = StoreJobSource.summary(entry.record, metrics: entry.metrics)
            if summaries[i] != job { summaries[i] = job }
        }
    }
}
