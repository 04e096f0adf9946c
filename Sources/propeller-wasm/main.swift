// The lean per-task runner the proplet spawns. Built in the proplet issue.
import Foundation

FileHandle.standardError.write(Data("propeller-wasm: not built yet\n".utf8))
exit(2)
