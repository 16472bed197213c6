// Watches the folders of the config, users and TLS files, and calls back once per burst of changes.
import { type FSWatcher, statSync, watch } from 'node:fs';
import { dirname } from 'node:path';

export interface FileWatcher {
  /** Watches exactly the folders these paths live in (a folder path: the folder itself). */
  watch(paths: readonly string[]): void;
  close(): void;
}

/**
 * Folders, not files: an editor saves by renaming a new file over the old one, and a Kubernetes
 * ConfigMap volume swaps its `..data` symlink; both show up as events in the folder, where a
 * watch on the old file would go quiet.
 */
export function watchFiles(
  onChange: () => void,
  debounceMs: number,
  onError: (error: Error) => void,
): FileWatcher {
  const watchers = new Map<string, FSWatcher>();
  let timer: NodeJS.Timeout | undefined;
  const fire = () => {
    clearTimeout(timer);
    timer = setTimeout(onChange, debounceMs);
    timer.unref();
  };
  return {
    watch(paths) {
      const folders = new Set(paths.map(folderOf));
      for (const [folder, watcher] of watchers) {
        if (!folders.has(folder)) {
          watcher.close();
          watchers.delete(folder);
        }
      }
      for (const folder of folders) {
        if (watchers.has(folder)) continue;
        try {
          const watcher = watch(folder, { persistent: false }, fire);
          watcher.on('error', onError);
          watchers.set(folder, watcher);
        } catch (error) {
          onError(error as Error);
        }
      }
    },
    close() {
      clearTimeout(timer);
      for (const watcher of watchers.values()) watcher.close();
      watchers.clear();
    },
  };
}

function folderOf(path: string): string {
  try {
    if (statSync(path).isDirectory()) return path;
  } catch {
    // A missing path: watch its folder, so that its creation is seen.
  }
  return dirname(path);
}
