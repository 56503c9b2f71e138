package io.inferencegateway.metrics;

import io.inferencegateway.config.GatewayConfig;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The append-only journal every usage record reaches before the database: a directory of segment files
 * ({@code segment-<n>.jsonl}, one JSON record per line) and a {@code checkpoint} file naming the position up to which
 * every record is stored in the database. Records are appended in group commits; the database is fed from memory, or
 * from the files when it fell behind (and at start, for what an earlier run left), in the journal's order, and the
 * checkpoint moves after each stored batch. A segment wholly before the checkpoint is deleted. A record stored whose
 * checkpoint was not yet written is stored again after a crash, which is harmless: the table refuses a repeated
 * {@code request_id}.
 *
 * <p>Each start appends to a new segment, so a line torn by a crash (the last line of an old segment) is skipped and
 * never glued to the next record. The directory is locked ({@code .lock}): a second gateway on the same data directory
 * takes {@code usage-journal-2} and so on.
 *
 * <p>Blocking file I/O: every method runs on one worker thread at a time (the metrics writer's ordered
 * {@code executeBlocking}), never on an event loop.
 */
public final class UsageJournal implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(UsageJournal.class);
  private static final Pattern SEGMENT = Pattern.compile("segment-(\\d{16})\\.jsonl");
  static final String CHECKPOINT = "checkpoint";
  private static final int MAX_DIRS = 64;
  private static final int INITIAL_BUFFER = 64 * 1024;
  private static final int MAX_KEPT_BUFFER = 4 * 1024 * 1024;
  /** The checkpoint file is written at most this often (and at close), not after every stored batch. */
  static final long CHECKPOINT_WRITE_NANOS = 1_000_000_000L;

  /** A place in the journal: a segment and a byte offset in it. Ordered by segment, then offset. */
  public record Position(long segment, long offset) implements Comparable<Position> {
    @Override
    public int compareTo(Position o) {
      return segment != o.segment ? Long.compare(segment, o.segment) : Long.compare(offset, o.offset);
    }

    boolean before(Position o) {
      return compareTo(o) < 0;
    }
  }

  /** Records read from the files, and the position just after the last line read (skipped lines included). */
  public record Batch(List<UsageRecord> records, Position end) {}

  private final Path dir;
  private final GatewayConfig.Journal settings;
  private final FileChannel lockChannel;
  private final FileLock lock;
  /** Segment number to size in bytes, for every segment file on disk. */
  private final TreeMap<Long, Long> segments = new TreeMap<>();
  private FileChannel current;
  private long currentSegment;
  private boolean dirty;
  private Position checkpoint;
  private long skippedLines;
  /** What the checkpoint file says, and when it was written ({@link System#nanoTime}). */
  private Position writtenCheckpoint;
  private long writtenAtNanos;
  /** The lines of one append, reused (one worker thread at a time runs every method). */
  private JsonBytes lines = new JsonBytes(INITIAL_BUFFER);

  private UsageJournal(Path dir, GatewayConfig.Journal settings, FileChannel lockChannel, FileLock lock) {
    this.dir = dir;
    this.settings = settings;
    this.lockChannel = lockChannel;
    this.lock = lock;
  }

  /**
   * Opens the first journal directory under {@code dataDir} that no other process holds ({@code usage-journal}, then
   * {@code usage-journal-2} ...), reads its checkpoint and starts a new segment. Records an older gateway left in
   * {@code usage-spool/} become segments of the main journal.
   */
  public static UsageJournal open(Path dataDir, GatewayConfig.Journal settings) throws IOException {
    for (int i = 1; i <= MAX_DIRS; i++) {
      Path dir = dataDir.resolve(i == 1 ? "usage-journal" : "usage-journal-" + i);
      Files.createDirectories(dir);
      FileChannel lockChannel = FileChannel.open(dir.resolve(".lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
      FileLock lock;
      try {
        lock = lockChannel.tryLock();
      } catch (OverlappingFileLockException e) {
        lock = null; // this JVM holds it (another gateway in the same process)
      }
      if (lock == null) {
        lockChannel.close();
        continue;
      }
      UsageJournal journal = new UsageJournal(dir, settings, lockChannel, lock);
      try {
        if (i == 1) {
          journal.adoptSpool(dataDir.resolve("usage-spool"));
        }
        journal.adoptOrphans(dataDir);
        journal.load();
      } catch (IOException | RuntimeException e) {
        journal.close();
        throw e;
      }
      if (i > 1) {
        log.info("{} is used by another gateway; this one journals usage in {}", dataDir.resolve("usage-journal"), dir);
      }
      return journal;
    }
    throw new IOException("no free usage journal directory under " + dataDir + " (" + MAX_DIRS + " are locked)");
  }

  public Path directory() {
    return dir;
  }

  private void load() throws IOException {
    try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "segment-*.jsonl")) {
      for (Path f : files) {
        Matcher m = SEGMENT.matcher(f.getFileName().toString());
        if (m.matches()) {
          segments.put(Long.parseLong(m.group(1)), Files.size(f));
        }
      }
    }
    checkpoint = readCheckpoint();
    writtenCheckpoint = checkpoint;
    writtenAtNanos = System.nanoTime() - CHECKPOINT_WRITE_NANOS; // the first checkpoint is written at once
    if (segments.isEmpty() || checkpoint.segment() < segments.firstKey()) {
      checkpoint = new Position(segments.isEmpty() ? 0 : segments.firstKey(), 0);
    }
    deleteBefore(checkpoint.segment());
    startSegment((segments.isEmpty() ? checkpoint.segment() : segments.lastKey()) + 1);
  }

  private Position readCheckpoint() throws IOException {
    Path file = dir.resolve(CHECKPOINT);
    if (!Files.exists(file)) {
      return new Position(0, 0);
    }
    String[] parts = Files.readString(file, StandardCharsets.US_ASCII).trim().split("\\s+");
    try {
      return new Position(Long.parseLong(parts[0]), Long.parseLong(parts[1]));
    } catch (RuntimeException e) {
      log.warn("Unreadable usage journal checkpoint {}; replaying the whole journal (stored rows are not stored twice)",
          file);
      return new Position(0, 0);
    }
  }

  /**
   * Takes over the segments of other journal directories no process holds (a second gateway on this data directory
   * that stopped, or was killed, before all of its records were stored). Their partly stored segments are replayed
   * whole, which is harmless (the table refuses a repeated request id).
   */
  private void adoptOrphans(Path dataDir) throws IOException {
    for (int i = 1; i <= MAX_DIRS; i++) {
      Path other = dataDir.resolve(i == 1 ? "usage-journal" : "usage-journal-" + i);
      if (other.equals(dir) || !Files.isDirectory(other)) {
        continue;
      }
      try (FileChannel ch = FileChannel.open(other.resolve(".lock"), StandardOpenOption.CREATE,
          StandardOpenOption.WRITE)) {
        FileLock held;
        try {
          held = ch.tryLock();
        } catch (OverlappingFileLockException e) {
          held = null;
        }
        if (held == null) {
          continue; // a running gateway's
        }
        try {
          List<Path> files = new ArrayList<>();
          try (DirectoryStream<Path> segs = Files.newDirectoryStream(other, "segment-*.jsonl")) {
            segs.forEach(files::add);
          }
          files.sort(null);
          long next = nextSegmentNumber();
          for (Path f : files) {
            if (Files.size(f) > 0) {
              Files.move(f, dir.resolve(segmentName(next++)));
            } else {
              Files.delete(f);
            }
          }
          Files.deleteIfExists(other.resolve(CHECKPOINT));
          if (!files.isEmpty()) {
            log.info("Took over {} usage journal segment(s) of {}, which no gateway holds", files.size(), other);
          }
        } finally {
          held.release();
        }
      }
    }
  }

  /** A number after every segment of this directory and after its checkpoint's (taken-over files must follow it). */
  private long nextSegmentNumber() throws IOException {
    long next = readCheckpoint().segment() + 1;
    try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "segment-*.jsonl")) {
      for (Path f : files) {
        Matcher m = SEGMENT.matcher(f.getFileName().toString());
        if (m.matches()) {
          next = Math.max(next, Long.parseLong(m.group(1)) + 1);
        }
      }
    }
    return next;
  }

  /** Moves the files of the usage spool of earlier versions (the same line format) into this journal. */
  private void adoptSpool(Path spool) throws IOException {
    if (!Files.isDirectory(spool)) {
      return;
    }
    List<Path> old = new ArrayList<>();
    try (DirectoryStream<Path> files = Files.newDirectoryStream(spool, "*.jsonl")) {
      files.forEach(old::add);
    }
    old.sort(null);
    long next = nextSegmentNumber();
    for (Path f : old) {
      if (Files.size(f) > 0) {
        Files.move(f, dir.resolve(segmentName(next++)));
      } else {
        Files.delete(f);
      }
    }
    if (!old.isEmpty()) {
      log.info("Moved {} usage spool file(s) of an earlier version into the usage journal", old.size());
    }
  }

  private static String segmentName(long n) {
    return String.format("segment-%016d.jsonl", n);
  }

  private void startSegment(long n) throws IOException {
    if (current != null) {
      current.force(false); // a finished segment is durable before the next one starts
      current.close();
    }
    currentSegment = n;
    current = FileChannel.open(dir.resolve(segmentName(n)), StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.APPEND);
    segments.put(n, current.size());
    dirty = false;
  }

  /** Where the next append goes: every record before it is in the files. */
  public Position end() {
    return new Position(currentSegment, segments.get(currentSegment));
  }

  /** Up to where the database has every record (as of the last {@link #checkpoint}). */
  public Position checkpoint() {
    return checkpoint;
  }

  /** Bytes in the journal's files not yet stored in the database. */
  public long pendingBytes() {
    long total = 0;
    for (var e : segments.entrySet()) {
      total += e.getValue();
    }
    Long first = segments.get(checkpoint.segment());
    return total - (first == null ? 0 : Math.min(first, checkpoint.offset()));
  }

  /**
   * Appends the records as one write (a group commit). Returns the end position, or null when the journal's size limit
   * leaves no room (nothing is written then).
   */
  public Position append(List<UsageRecord> records) throws IOException {
    JsonBytes out = lines;
    out.reset();
    for (UsageRecord r : records) {
      r.writeJson(out); // the bytes JsonObject.toBuffer() gives, written straight into one reused buffer
      out.raw('\n');
    }
    int length = out.length();
    if (out.capacity() > MAX_KEPT_BUFFER) {
      lines = new JsonBytes(INITIAL_BUFFER); // a batch of long stored contents: do not keep its buffer for ever
    }
    if (pendingBytes() + length > settings.maxBytes()) {
      return null;
    }
    long size = segments.get(currentSegment);
    if (size > 0 && size + length > settings.segmentBytes()) {
      startSegment(currentSegment + 1);
      size = 0;
    }
    ByteBuffer buf = out.byteBuffer();
    while (buf.hasRemaining()) {
      current.write(buf);
    }
    segments.put(currentSegment, size + length);
    dirty = true;
    if (settings.fsync().equals("always")) {
      sync();
    }
    return end();
  }

  /** Forces appended records to the disk (fsync policy {@code interval}: called every {@code fsyncIntervalMs}). */
  public void sync() throws IOException {
    if (dirty) {
      current.force(false);
      dirty = false;
    }
  }

  /**
   * Reads up to {@code max} records from {@code from}, never past {@code limit} (an end returned by {@link #append}),
   * a line at a time: memory is bounded by one batch whatever the journal's size. A line that is not a record (torn by
   * a crash at the end of an old segment, or damaged) is skipped and counted.
   */
  public Batch read(Position from, Position limit, int max) throws IOException {
    List<UsageRecord> out = new ArrayList<>(Math.min(max, 1024));
    Position pos = from;
    while (out.size() < max && pos.before(limit)) {
      Long size = segments.get(pos.segment());
      if (size == null || pos.offset() >= size) {
        if (pos.segment() >= limit.segment()) {
          break;
        }
        Long next = segments.higherKey(pos.segment());
        if (next == null) {
          break;
        }
        pos = new Position(next, 0);
        continue;
      }
      long stop = pos.segment() == limit.segment() ? Math.min(size, limit.offset()) : size;
      pos = readSegment(pos, stop, max, out);
    }
    return new Batch(out, pos);
  }

  /** Reads whole lines of one segment from {@code from} up to {@code stop}; a partial line at its end is skipped. */
  private Position readSegment(Position from, long stop, int max, List<UsageRecord> out) throws IOException {
    long offset = from.offset();
    try (FileChannel ch = FileChannel.open(dir.resolve(segmentName(from.segment())), StandardOpenOption.READ)) {
      ch.position(offset);
      ByteBuffer buf = ByteBuffer.allocate(64 * 1024);
      ByteArrayOutputStream line = new ByteArrayOutputStream(1024);
      long read = offset;
      while (out.size() < max && read < stop) {
        buf.clear();
        buf.limit((int) Math.min(buf.capacity(), stop - read));
        int n = ch.read(buf);
        if (n <= 0) {
          break;
        }
        read += n;
        buf.flip();
        while (buf.hasRemaining()) {
          byte b = buf.get();
          if (b != '\n') {
            line.write(b);
            continue;
          }
          offset += line.size() + 1;
          decode(line, from.segment(), out);
          line.reset();
          if (out.size() >= max) {
            return new Position(from.segment(), offset);
          }
        }
      }
      if (line.size() > 0 && read >= stop && stop < segments.get(from.segment())) {
        return new Position(from.segment(), offset); // cannot happen with ends from append(); kept whole for later
      }
      if (line.size() > 0 && read >= stop) {
        skippedLines++;
        log.warn("Skipping a torn last line of {} bytes in usage journal segment {}", line.size(), from.segment());
        offset += line.size();
      }
    } catch (NoSuchFileException e) {
      return new Position(from.segment(), Long.MAX_VALUE);
    }
    return new Position(from.segment(), offset);
  }

  private void decode(ByteArrayOutputStream line, long segment, List<UsageRecord> out) {
    if (line.size() == 0) {
      return;
    }
    try {
      out.add(UsageRecord.fromJson(new JsonObject(line.toString(StandardCharsets.UTF_8))));
    } catch (DecodeException | ClassCastException | NullPointerException e) {
      skippedLines++;
      log.warn("Skipping an unreadable line in usage journal segment {}: {}", segment, e.getMessage());
    }
  }

  /** Lines skipped as unreadable since the journal was opened. */
  public long skippedLines() {
    return skippedLines;
  }

  /**
   * Notes that every record before {@code p} is in the database and deletes the segments wholly before it. The
   * checkpoint file (replaced atomically) is written at most once a second and at {@link #close}, not after every
   * stored batch: after a crash the records of the last second are replayed from the older checkpoint, which is
   * harmless because replay is idempotent (the table refuses a repeated {@code request_id}: INSERT IGNORE). A file
   * naming a segment already deleted is read as the start of the first segment left (see {@link #load}).
   */
  public void checkpoint(Position p) throws IOException {
    if (!checkpoint.before(p)) {
      return;
    }
    checkpoint = p;
    deleteBefore(p.segment());
    if (System.nanoTime() - writtenAtNanos >= CHECKPOINT_WRITE_NANOS) {
      writeCheckpoint();
    }
  }

  private void writeCheckpoint() throws IOException {
    Position p = checkpoint;
    Path tmp = dir.resolve(CHECKPOINT + ".tmp");
    Files.writeString(tmp, p.segment() + " " + p.offset() + "\n", StandardCharsets.US_ASCII);
    Files.move(tmp, dir.resolve(CHECKPOINT), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    writtenCheckpoint = p;
    writtenAtNanos = System.nanoTime();
  }

  private void deleteBefore(long segment) throws IOException {
    while (!segments.isEmpty() && segments.firstKey() < segment && segments.firstKey() != currentSegment) {
      long n = segments.pollFirstEntry().getKey();
      Files.deleteIfExists(dir.resolve(segmentName(n)));
    }
  }

  @Override
  public void close() throws IOException {
    try {
      if (writtenCheckpoint != null && checkpoint != null && !checkpoint.equals(writtenCheckpoint)) {
        writeCheckpoint(); // the last stored batches (the file lags by up to a second)
      }
    } finally {
      closeFiles();
    }
  }

  private void closeFiles() throws IOException {
    try {
      if (current != null) {
        current.force(false);
        current.close();
        current = null;
      }
    } finally {
      try {
        if (lock != null && lock.isValid()) {
          lock.release();
        }
      } finally {
        lockChannel.close();
      }
    }
  }
}
