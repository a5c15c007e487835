package io.drover.persistence;

import com.typesafe.config.Config;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.persistence.AtomicWrite;
import org.apache.pekko.persistence.cassandra.journal.CassandraJournal;
import scala.collection.immutable.Seq;
import scala.concurrent.Future;
import scala.runtime.BoxedUnit;
import scala.util.Try;

/**
 * The Cassandra journal, refusing every write once this process has been frozen long enough that the rest of
 * the cluster may have downed it and started its twins elsewhere ({@link WriteFence}). Without it a node that
 * was SIGSTOPped (or stalled) past the split-brain resolver's decision writes, in the moment after it resumes
 * and before it learns it was downed, events of twins that already live on another node: two writers, one
 * sequence number twice (ClusterFailoverTest saw it). The node then shuts itself down.
 */
public final class FencedCassandraJournal extends CassandraJournal {

    private final CoordinatedShutdown shutdown;

    public FencedCassandraJournal(Config cfg, String cfgPath) {
        super(cfg, cfgPath);
        WriteFence.start(context().system().settings().config().getDuration("drover.persistence.freeze-fence"));
        this.shutdown = CoordinatedShutdown.get(context().system());
    }

    @Override
    public Future<Seq<Try<BoxedUnit>>> asyncWriteMessages(Seq<AtomicWrite> messages) {
        if (WriteFence.fenced()) {
            shutdown.run(WriteFence.REASON);
            return scala.concurrent.Future$.MODULE$.failed(new IllegalStateException(
                    "journal writes are fenced: this node was frozen past the cluster's downing decision"));
        }
        return super.asyncWriteMessages(messages);
    }
}
