package io.drover.persistence;

import io.drover.rules.Alarm;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionStage;

/**
 * Alarms by tenant for listing (cursor-paged, filtered) and by id. Written only by the alarm-list projection: each
 * write stores the alarm as an event left it, so applying an event again changes nothing.
 */
public interface AlarmDirectory {

    /** @param status null = active ones first, then cleared ones */
    record Query(String tenantId, Alarm.Status status, Optional<String> severity, Optional<String> deviceId,
            Optional<String> type, Optional<String> cursor, int limit) {}

    record Page(List<Alarm.AlarmView> items, Optional<String> nextCursor) {}

    CompletionStage<Void> upsert(Alarm.AlarmView alarm);

    CompletionStage<Optional<Alarm.AlarmView>> get(String tenantId, String alarmId);

    /** @throws IllegalArgumentException (in the stage) for a cursor this directory did not issue */
    CompletionStage<Page> list(Query query);
}
