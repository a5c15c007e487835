package io.drover.http.testing;

import io.drover.persistence.AlarmDirectory;
import io.drover.persistence.Cursors;
import io.drover.rules.Alarm;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;

/** Alarms by tenant in memory, paged like the Cassandra directory (active first, then cleared, by id). */
public final class InMemoryAlarmDirectory implements AlarmDirectory {

    private final Map<String, Alarm.AlarmView> byKey = new ConcurrentHashMap<>();

    @Override
    public CompletionStage<Void> upsert(Alarm.AlarmView alarm) {
        byKey.put(alarm.tenantId() + "/" + alarm.id(), alarm);
        return CompletableFuture.completedFuture(null);
    }

    @Override
    public CompletionStage<Optional<Alarm.AlarmView>> get(String tenantId, String alarmId) {
        return CompletableFuture.completedFuture(Optional.ofNullable(byKey.get(tenantId + "/" + alarmId)));
    }

    @Override
    public CompletionStage<Page> list(Query q) {
        List<Alarm.Status> statuses = q.status() == null ? List.of(Alarm.Status.ACTIVE, Alarm.Status.CLEARED)
                : List.of(q.status());
        Cursors start;
        try {
            start = q.cursor().map(Cursors::decode).orElse(new Cursors(0, ""));
        } catch (IllegalArgumentException e) {
            return CompletableFuture.failedFuture(e);
        }
        List<Alarm.AlarmView> out = new ArrayList<>();
        for (int i = start.bucket(); i < statuses.size(); i++) {
            TreeMap<String, Alarm.AlarmView> sorted = new TreeMap<>();
            for (Alarm.AlarmView a : byKey.values()) {
                if (a.tenantId().equals(q.tenantId()) && a.status() == statuses.get(i)) {
                    sorted.put(a.id(), a);
                }
            }
            String after = i == start.bucket() ? start.afterDeviceId() : "";
            for (Alarm.AlarmView a : sorted.tailMap(after, false).values()) {
                if (q.severity().map(s -> a.severity() != null && s.equals(a.severity().wire())).orElse(true)
                        && q.deviceId().map(d -> d.equals(a.deviceId())).orElse(true)
                        && q.type().map(t -> t.equals(a.type())).orElse(true)) {
                    if (out.size() == q.limit()) {
                        Alarm.AlarmView last = out.get(out.size() - 1);
                        return CompletableFuture.completedFuture(new Page(List.copyOf(out),
                                Optional.of(new Cursors(statuses.indexOf(last.status()), last.id()).encode())));
                    }
                    out.add(a);
                }
            }
        }
        return CompletableFuture.completedFuture(new Page(List.copyOf(out), Optional.empty()));
    }
}
