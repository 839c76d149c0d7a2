/** @type {import('next').NextConfig} */
const nextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  // The custom server (server/main.ts) owns the process; Next only renders pages.
  serverExternalPackages: ['node-pty'],
  devIndicators: false,
  // `npm test` type-checks everything (tests included) with tsc; a test's type error must not stop `npm start`.
  typescript: { ignoreBuildErrors: true },
};
export default nextConfig;
