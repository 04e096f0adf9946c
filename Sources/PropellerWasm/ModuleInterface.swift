import WasmKit
import WasmParser

/// The exported functions of a module and their types, read with WasmKit's parser without
/// instantiating it (no guest code runs, no linear memory is allocated). The proplet reads it to plan
/// a Wasmtime run: which export to call, how to convert the inputs, how to read the result.
public struct ModuleInterface: Sendable, Equatable {
    /// Every exported function with its type, in export order.
    public var functions: [(name: String, type: FunctionType)]

    /// The names of the exported functions, in export order.
    public var functionNames: [String] { functions.map(\.name) }

    /// The type of an exported function, or nil.
    public func type(of name: String) -> FunctionType? {
        functions.first { $0.name == name }?.type
    }

    public static func == (lhs: ModuleInterface, rhs: ModuleInterface) -> Bool {
        lhs.functions.map(\.name) == rhs.functions.map(\.name) && lhs.functions.map(\.type) == rhs.functions.map(\.type)
    }

    /// Reads the interface of a binary module.
    ///
    /// - Throws: `WasmRunError.invalidModule` with the parser's reason when the bytes are not a module.
    public init(bytes: [UInt8]) throws(WasmRunError) {
        var types: [FunctionType?] = []
        var importedFunctionTypes: [UInt32] = []
        var definedFunctionTypes: [UInt32] = []
        var exports: [Export] = []
        var parser = Parser(bytes: bytes)
        do {
            while let payload = try parser.parseNext() {
                switch payload {
                case .typeSection(let groups):
                    for group in groups {
                        for subtype in group.types {
                            if case .function(let function) = subtype.body {
                                types.append(function)
                            } else {
                                types.append(nil)
                            }
                        }
                    }
                case .importSection(let imports):
                    for entry in imports {
                        if case .function(let index) = entry.descriptor { importedFunctionTypes.append(index) }
                    }
                case .functionSection(let indices):
                    definedFunctionTypes = indices
                case .exportSection(let entries):
                    exports = entries
                default:
                    break
                }
            }
        } catch {
            throw .invalidModule(reason: WasmTaskRunner.parseErrorText("\(error)"))
        }
        var functions: [(name: String, type: FunctionType)] = []
        for export in exports {
            guard case .function(let index) = export.descriptor else { continue }
            let functionIndex = Int(index)
            let typeIndex: UInt32?
            if functionIndex < importedFunctionTypes.count {
                typeIndex = importedFunctionTypes[functionIndex]
            } else if functionIndex - importedFunctionTypes.count < definedFunctionTypes.count {
                typeIndex = definedFunctionTypes[functionIndex - importedFunctionTypes.count]
            } else {
                typeIndex = nil
            }
            guard let typeIndex, Int(typeIndex) < types.count, let type = types[Int(typeIndex)] else {
                throw .invalidModule(
                    reason: "export \"\(export.name)\" refers to function \(index), which has no function type"
                )
            }
            functions.append((export.name, type))
        }
        self.functions = functions
    }
}
