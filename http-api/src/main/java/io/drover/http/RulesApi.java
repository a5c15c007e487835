package io.drover.http;

import io.drover.persistence.AlarmDirectory;
import io.drover.persistence.RuleErrorStore;
import io.drover.rules.Alarm;
import io.drover.rules.RuleCompiler;
import io.drover.shard.AlarmClient;
import io.drover.shard.RuleClient;
import io.drover.telemetry.rules.Backtester;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.pubsub.Topic;

/** What the rules and alarms routes need from the rest of the node. */
public record RulesApi(RuleClient rules, AlarmClient alarms, RuleCompiler compiler, RuleErrorStore errors,
        Backtester backtester, AlarmDirectory alarmDirectory, ActorRef<Topic.Command<Alarm.Changed>> alarmTopic) {}
