// Style sheets imported from TypeScript are bundled by Vite.
declare module "*.css";
