package io.inferencegateway.metrics;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.file.AsyncFile;
import io.vertx.core.file.FileSystem;
import io.vertx.core.file.OpenOptions;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import io.vertx.core.parsetools.RecordParser;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.Function;

/**
 * The append-only file where usage records wait while the database is unreachable and memory is full.
 * New records are appended to {@code current.jsonl} (one JSON object per line). To drain, that file is closed and
 * renamed to {@code batch-<time>.jsonl}, then read back in batches; a batch file is deleted only after every record
 * in it is stored. A crash while draining re-reads the file, which is harmless: the database ignores a
 * {@code request_id} it already has. All methods run on the metrics writer's event loop.
 */
final class UsageSpool {

  private static final Logger log = LoggerFactory.getLogger(UsageSpool.class);

  private final Vertx vertx;
  private final String dir;
  private final String current;
  private Future<AsyncFile> appender;

  UsageSpool(Vertx vertx, String dir) {
    this.vertx = vertx;
    this.dir = dir;
    this.current = dir + "/current.jsonl";
  }

  Future<Void> init() {
    return vertx.fileSystem().mkdirs(dir);
  }

  /** Appends records; completes when they are handed to the OS. */
  Future<Void> append(List<UsageRecord> records) {
    Buffer lines = Buffer.buffer(records.size() * 256);
    for (UsageRecord r : records) {
      lines.appendBuffer(r.toJson().toBuffer()).appendByte((byte) '\n');
    }
    return appender().compose(f -> f.write(lines));
  }

  private Future<AsyncFile> appender() {
    if (appender == null || appender.failed()) {
      appender = vertx.fileSystem().open(current, new OpenOptions().setAppend(true).setCreate(true).setWrite(true));
    }
    return appender;
  }

  /** Files to drain, oldest first; the current file only if it is not empty. */
  private Future<List<String>> files() {
    FileSystem fs = vertx.fileSystem();
    return fs.exists(dir).compose(exists -> !exists ? Future.succeededFuture(List.<String>of()) : fs.readDir(dir, "batch-.*\\.jsonl")
        .compose(batches -> fs.exists(current).compose(has -> !has ? Future.succeededFuture(0L)
            : fs.props(current).map(p -> p.size()))
            .map(size -> {
              List<String> out = new ArrayList<>(batches);
              out.sort(Comparator.naturalOrder());
              if (size > 0) {
                out.add(current);
              }
              return out;
            })));
  }

  /** Counts records waiting in files (at start-up, for the gauge). */
  Future<Long> count() {
    return files().compose(list -> {
      Future<Long> total = Future.succeededFuture(0L);
      for (String f : list) {
        total = total.compose(sum -> vertx.fileSystem().readFile(f).map(b -> sum + countLines(b)));
      }
      return total;
    });
  }

  private static long countLines(Buffer b) {
    long n = 0;
    for (int i = 0; i < b.length(); i++) {
      if (b.getByte(i) == '\n') {
        n++;
      }
    }
    return n;
  }

  /**
   * Drains the oldest waiting file through {@code store}, {@code batchSize} records at a time.
   * Completes with the number of records stored (0 when nothing waits); fails, keeping the file, if a batch fails.
   */
  Future<Integer> drainOne(int batchSize, Function<List<UsageRecord>, Future<Void>> store) {
    return files().compose(list -> {
      if (list.isEmpty()) {
        return Future.succeededFuture(0);
      }
      String file = list.get(0);
      Future<String> ready = file.equals(current) ? rotate() : Future.succeededFuture(file);
      return ready.compose(batchFile -> replay(batchFile, batchSize, store)
          .compose(n -> vertx.fileSystem().delete(batchFile).map(n)));
    });
  }

  /** Closes the appender and renames the current file so new records go to a fresh one. */
  private Future<String> rotate() {
    String target = dir + "/batch-" + String.format("%015d", System.currentTimeMillis()) + ".jsonl";
    Future<Void> closed = appender == null ? Future.succeededFuture()
        : appender.compose(AsyncFile::close).recover(err -> Future.succeededFuture());
    appender = null;
    return closed.compose(v -> vertx.fileSystem().move(current, target)).map(target);
  }

  private Future<Integer> replay(String file, int batchSize, Function<List<UsageRecord>, Future<Void>> store) {
    return vertx.fileSystem().open(file, new OpenOptions().setRead(true).setWrite(false).setCreate(false))
        .compose(af -> {
          Promise<Integer> done = Promise.promise();
          RecordParser parser = RecordParser.newDelimited("\n", af);
          List<UsageRecord> batch = new ArrayList<>(batchSize);
          int[] stored = {0};
          parser.handler(line -> {
            if (line.length() == 0) {
              return;
            }
            try {
              batch.add(UsageRecord.fromJson(new JsonObject(line)));
            } catch (DecodeException | ClassCastException | NullPointerException e) {
              log.warn("Skipping an unreadable line in {}: {}", file, e.getMessage());
              return;
            }
            if (batch.size() >= batchSize) {
              parser.pause();
              List<UsageRecord> out = List.copyOf(batch);
              batch.clear();
              store.apply(out).onSuccess(v -> {
                stored[0] += out.size();
                parser.resume();
              }).onFailure(err -> {
                af.close();
                done.tryFail(err);
              });
            }
          });
          parser.exceptionHandler(err -> {
            af.close();
            done.tryFail(err);
          });
          parser.endHandler(v -> {
            List<UsageRecord> out = List.copyOf(batch);
            store.apply(out)
                .onSuccess(x -> done.tryComplete(stored[0] + out.size()))
                .onFailure(done::tryFail)
                .onComplete(x -> af.close());
          });
          return done.future();
        });
  }

  Future<Void> close() {
    if (appender == null) {
      return Future.succeededFuture();
    }
    Future<Void> f = appender.compose(AsyncFile::close).recover(err -> Future.succeededFuture());
    appender = null;
    return f;
  }
}
