// The cold-start baseline scripts/bench measures `pincer plugins list` against:
// a Swift program that only imports Foundation and prints a line.

import Foundation

print("hello from Foundation")
