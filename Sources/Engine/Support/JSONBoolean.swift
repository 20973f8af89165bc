import Foundation

/// JSON's true and false arrive from JSONSerialization as NSNumbers too, of their own class; a field that must be a
/// number refuses them.
public enum JSONBoolean {
    public static func isBoolean(_ value: Any) -> Bool {
        guard let n = value as? NSNumber else { return false }
        #if canImport(Darwin)
        return CFGetTypeID(n) == CFBooleanGetTypeID()
        #else
        return String(cString: n.objCType) == "c" && String(describing: type(of: n)).contains("Boolean")
        #endif
    }
}
