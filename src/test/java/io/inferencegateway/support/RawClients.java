package io.inferencegateway.support;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntFunction;

/**
 * Many plain TCP clients driven from one test thread with a selector: each writes what it is told (a request head, a
 * piece of a body) and records when its answer's status line arrives, measured from the moment its head was written.
 * For tests that need hundreds of misbehaving clients at once (announcing bodies they never send, sending slowly).
 */
public final class RawClients implements AutoCloseable {

  /** One client: its socket, what it received, when. */
  public static final class Client {
    final SocketChannel channel;
    final StringBuilder received = new StringBuilder();
    long headSentNanos;
    long statusNanos;
    boolean closedByServer;

    Client(SocketChannel channel) {
      this.channel = channel;
    }

    /** The status code of the answer (0: none yet). */
    public int status() {
      String text = received.toString();
      if (!text.startsWith("HTTP/1.1 ") || text.length() < 12) {
        return 0;
      }
      return Integer.parseInt(text.substring(9, 12));
    }

    /** What the server sent so far (head and body, as text). */
    public String received() {
      return received.toString();
    }

    /** From the head being written to the status line arriving; -1 if it did not. */
    public long answerMillis() {
      return statusNanos == 0 ? -1 : (statusNanos - headSentNanos) / 1_000_000;
    }

    public boolean closedByServer() {
      return closedByServer;
    }
  }

  private final Selector selector;
  private final List<Client> clients = new ArrayList<>();

  private RawClients(Selector selector) {
    this.selector = selector;
  }

  /** Opens {@code n} connections to {@code port} on 127.0.0.1 (blocking connects, then non-blocking use). */
  public static RawClients connect(int port, int n) throws IOException {
    RawClients all = new RawClients(Selector.open());
    for (int i = 0; i < n; i++) {
      SocketChannel ch = SocketChannel.open(new InetSocketAddress("127.0.0.1", port));
      ch.configureBlocking(false);
      Client c = new Client(ch);
      ch.register(all.selector, SelectionKey.OP_READ, c);
      all.clients.add(c);
    }
    return all;
  }

  public List<Client> clients() {
    return clients;
  }

  /** Writes each client's head (client index to text); the clock of each answer starts when its head is written. */
  public void sendHeads(IntFunction<String> head) throws IOException {
    for (int i = 0; i < clients.size(); i++) {
      Client c = clients.get(i);
      write(c, head.apply(i).getBytes(StandardCharsets.ISO_8859_1));
      c.headSentNanos = System.nanoTime();
      read(selector.selectNow()); // answers to earlier heads are timed as they come, not after the last head
    }
  }

  /** Writes bytes to one client (skipped if the server closed it). */
  public void send(int client, byte[] bytes) throws IOException {
    Client c = clients.get(client);
    if (!c.closedByServer) {
      try {
        write(c, bytes);
      } catch (IOException e) {
        c.closedByServer = true; // reset by the server
      }
    }
  }

  private static void write(Client c, byte[] bytes) throws IOException {
    ByteBuffer buf = ByteBuffer.wrap(bytes);
    long giveUp = System.nanoTime() + 5_000_000_000L;
    while (buf.hasRemaining()) {
      if (c.channel.write(buf) == 0) {
        if (System.nanoTime() > giveUp) {
          throw new IOException("the server does not read");
        }
        Thread.onSpinWait();
      }
    }
  }

  /** Reads whatever arrived, for up to {@code wait}; returns early once every client has a status line or closed. */
  public void poll(Duration wait) throws IOException {
    poll(wait, false);
  }

  /** Reads whatever arrived, for up to {@code wait}; returns early once the server closed every connection. */
  public void pollUntilClosed(Duration wait) throws IOException {
    poll(wait, true);
  }

  private final ByteBuffer buf = ByteBuffer.allocate(64 * 1024);

  private void poll(Duration wait, boolean untilClosed) throws IOException {
    long end = System.nanoTime() + wait.toNanos();
    while (true) {
      long left = end - System.nanoTime();
      if (left <= 0 || clients.stream().allMatch(c -> (!untilClosed && c.statusNanos != 0) || c.closedByServer)) {
        return;
      }
      read(selector.select(Math.max(1, left / 1_000_000)));
    }
  }

  /** Reads from the channels the selector found ready. */
  private void read(int ready) throws IOException {
    if (ready == 0) {
      return;
    }
    {
      long now = System.nanoTime();
      var it = selector.selectedKeys().iterator();
      while (it.hasNext()) {
        SelectionKey key = it.next();
        it.remove();
        Client c = (Client) key.attachment();
        int n;
        try {
          buf.clear();
          n = c.channel.read(buf);
        } catch (IOException e) {
          n = -1;
        }
        if (n < 0) {
          c.closedByServer = true;
          key.cancel();
          continue;
        }
        if (c.statusNanos == 0 && n > 0) {
          c.statusNanos = now;
        }
        c.received.append(new String(buf.array(), 0, n, StandardCharsets.ISO_8859_1));
      }
    }
  }

  @Override
  public void close() throws IOException {
    for (Client c : clients) {
      c.channel.close();
    }
    selector.close();
  }
}
