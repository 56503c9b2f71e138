import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Time to first token at one connection: sends streaming chat requests one after another on one keep-alive
 * connection and measures, for each, the time from writing the request to reading the first SSE event that carries
 * content. Prints one JSON line: {"samples": n, "p50_ms": .., "p90_ms": .., "mean_ms": ..}.
 * Usage: java bench/TtftProbe.java URL API_KEY MODEL COUNT
 */
public class TtftProbe {

  public static void main(String[] args) throws Exception {
    URI uri = URI.create(args[0]);
    String key = args[1];
    String model = args[2];
    int count = Integer.parseInt(args[3]);
    String body = "{\"model\":\"" + model + "\",\"stream\":true,\"max_tokens\":64,\"messages\":[{\"role\":\"user\","
        + "\"content\":\"Write a short haiku about load balancers.\"}]}";
    byte[] bodyBytes = body.getBytes(StandardCharsets.UTF_8);
    String head = "POST " + uri.getPath() + " HTTP/1.1\r\nHost: " + uri.getHost() + ":" + uri.getPort()
        + "\r\nContent-Type: application/json\r\nAuthorization: Bearer " + key + "\r\nContent-Length: "
        + bodyBytes.length + "\r\n\r\n";
    byte[] request = concat(head.getBytes(StandardCharsets.US_ASCII), bodyBytes);
    double[] samples = new double[count];
    try (Socket socket = new Socket()) {
      socket.setTcpNoDelay(true);
      socket.setSoTimeout(10_000);
      socket.connect(new InetSocketAddress(uri.getHost(), uri.getPort()));
      OutputStream out = socket.getOutputStream();
      InputStream in = socket.getInputStream();
      byte[] buf = new byte[65536];
      for (int i = 0; i < count; i++) {
        long t0 = System.nanoTime();
        out.write(request);
        out.flush();
        long first = -1;
        StringBuilder seen = new StringBuilder();
        while (true) {
          int n;
          try {
            n = in.read(buf);
          } catch (java.net.SocketTimeoutException e) {
            throw new IllegalStateException("no answer in 10 s to request " + i + "; received so far: " + seen, e);
          }
          if (n < 0) {
            throw new IllegalStateException("connection closed");
          }
          seen.append(new String(buf, 0, n, StandardCharsets.ISO_8859_1));
          if (first < 0 && countOf(seen, "\"content\":") >= 2) {
            first = System.nanoTime(); // the role chunk's empty content, then the first token
          }
          // a chunked response ends with the zero-length chunk after [DONE]
          if (seen.indexOf("[DONE]") >= 0 && seen.indexOf("\r\n0\r\n\r\n") >= 0) {
            break;
          }
        }
        samples[i] = (first - t0) / 1e6;
      }
    }
    Arrays.sort(samples);
    double mean = Arrays.stream(samples).average().orElse(0);
    System.out.printf("{\"samples\":%d,\"p50_ms\":%.4f,\"p90_ms\":%.4f,\"mean_ms\":%.4f}%n", count,
        samples[count / 2], samples[(int) (count * 0.9)], mean);
  }

  private static int countOf(CharSequence s, String needle) {
    int c = 0;
    int i = s.toString().indexOf(needle);
    while (i >= 0) {
      c++;
      i = s.toString().indexOf(needle, i + 1);
    }
    return c;
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] out = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}
