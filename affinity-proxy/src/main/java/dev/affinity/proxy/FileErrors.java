package dev.affinity.proxy;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;

/**
 * Why a file could not be read, in words: the JDK's {@link NoSuchFileException} message is only the
 * path, which makes "cannot read /x: /x" errors. Never includes the file's content.
 */
final class FileErrors {
  private FileErrors() {}

  /** The reason {@code e} names, e.g. "no such file" or "permission denied". */
  static String reason(Throwable e) {
    if (e instanceof NoSuchFileException) {
      return "no such file";
    }
    if (e instanceof AccessDeniedException) {
      return "permission denied";
    }
    if (e instanceof NotDirectoryException) {
      return "a parent is not a directory";
    }
    if (e instanceof FileSystemException) {
      FileSystemException f = (FileSystemException) e;
      return f.getReason() != null ? f.getReason() : f.getClass().getSimpleName();
    }
    if (e instanceof IOException && e.getMessage() != null) {
      return e.getMessage();
    }
    return e.getClass().getSimpleName();
  }
}
