import Foundation
import RCMPlatform

exit(RCMCommand.run(Array(CommandLine.arguments.dropFirst())))
