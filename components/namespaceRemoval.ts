// Stacks deployed before the layout by phase recorded, in their NamespaceRemoval's
// serialized provider, this module's old absolute path; a destroy runs that recorded
// provider, so the path must keep answering. The code lives in controlPlane/.
export * from "./controlPlane/namespaceRemoval";
