package io.inferencegateway.support;

import java.io.File;

/** Command-line tools some tests run (node, python3, terraform). */
public final class Tools {

  private Tools() {}

  /** Whether an executable of that name is on the {@code PATH}. */
  public static boolean onPath(String command) {
    String path = System.getenv("PATH");
    if (path == null) {
      return false;
    }
    for (String dir : path.split(File.pathSeparator)) {
      if (new File(dir, command).canExecute()) {
        return true;
      }
    }
    return false;
  }
}
